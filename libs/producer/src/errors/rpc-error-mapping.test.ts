import { Code, ConnectError } from '@connectrpc/connect';
import { ERROR_CODE_HEADER } from '@partq/client-core';
import { ProducerError } from './producer-error.js';
import { toProducerError } from './rpc-error-mapping.js';

// The mapping itself is tested in @partq/client-core; this covers what the producer narrows.
describe('toProducerError', () => {
  it.each([
    ['PAYLOAD_TOO_LARGE', Code.ResourceExhausted, 'PAYLOAD_TOO_LARGE', false],
    ['ALREADY_EXISTS', Code.AlreadyExists, 'ALREADY_EXISTS', false],
    ['OFFSET_OUT_OF_RANGE', Code.OutOfRange, 'INVALID_ARGUMENT', false],
    ['NOT_OWNER', Code.FailedPrecondition, 'UNAVAILABLE', true],
    ['OUT_OF_ORDER_SEQUENCE', Code.FailedPrecondition, 'OUT_OF_ORDER_SEQUENCE', false],
  ])('reports the server code %s as a ProducerError', (header, code, expected, retriable) => {
    const error = toProducerError(new ConnectError('refused', code, { [ERROR_CODE_HEADER]: header }));
    expect(error).toBeInstanceOf(ProducerError);
    expect(error).toMatchObject({ name: 'ProducerError', code: expected, retriable, serverCode: header, message: 'refused' });
  });

  it('reports ABORTED when the caller signal fired', () => {
    expect(toProducerError(new ConnectError('x', Code.Canceled), AbortSignal.abort()).code).toBe('ABORTED');
  });

  it('passes ProducerErrors through and wraps anything else as INTERNAL', () => {
    const own = new ProducerError('CLOSED', 'closed');
    expect(toProducerError(own)).toBe(own);
    expect(toProducerError(new Error('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom', retriable: false });
  });
});
