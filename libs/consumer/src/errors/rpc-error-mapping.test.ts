import { Code, ConnectError } from '@connectrpc/connect';
import { ERROR_CODE_HEADER } from '@partq/client-core';
import { ConsumerError } from './consumer-error.js';
import { toConsumerError } from './rpc-error-mapping.js';

// The mapping itself is tested in @partq/client-core; this covers what the consumer narrows.
describe('toConsumerError', () => {
  it.each([
    ['NOT_FOUND', Code.NotFound, 'NOT_FOUND', false],
    ['ALREADY_EXISTS', Code.AlreadyExists, 'INTERNAL', false],
    ['PAYLOAD_TOO_LARGE', Code.ResourceExhausted, 'INVALID_ARGUMENT', false],
    ['OFFSET_OUT_OF_RANGE', Code.OutOfRange, 'INTERNAL', false],
    ['STALE_EPOCH', Code.FailedPrecondition, 'UNAVAILABLE', true],
  ])('reports the server code %s as a ConsumerError', (header, code, expected, retriable) => {
    const error = toConsumerError(new ConnectError('m', code, { [ERROR_CODE_HEADER]: header }));
    expect(error).toBeInstanceOf(ConsumerError);
    expect(error).toMatchObject({ name: 'ConsumerError', code: expected, retriable, serverCode: header, message: 'm' });
  });

  it.each([
    [Code.AlreadyExists, 'INTERNAL'],
    [Code.ResourceExhausted, 'INVALID_ARGUMENT'],
    [Code.OutOfRange, 'INTERNAL'],
  ])('narrows the Connect code %s without the header', (code, expected) => {
    expect(toConsumerError(new ConnectError('m', code)).code).toBe(expected);
  });

  it('reports ABORTED when the caller signal fired, and passes ConsumerErrors through', () => {
    expect(toConsumerError(new ConnectError('m', Code.Canceled), AbortSignal.abort()).code).toBe('ABORTED');
    const own = new ConsumerError('CLOSED', 'closed');
    expect(toConsumerError(own)).toBe(own);
  });
});
