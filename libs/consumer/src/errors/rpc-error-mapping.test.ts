import { Code, ConnectError } from '@connectrpc/connect';
import { ConsumerError } from './consumer-error.js';
import { ERROR_CODE_HEADER, toConsumerError } from './rpc-error-mapping.js';

describe('toConsumerError', () => {
  it.each([
    ['NOT_FOUND', Code.NotFound, 'NOT_FOUND', false],
    ['PERMISSION_DENIED', Code.PermissionDenied, 'PERMISSION_DENIED', false],
    ['STALE_EPOCH', Code.FailedPrecondition, 'UNAVAILABLE', true],
    ['NOT_OWNER', Code.FailedPrecondition, 'UNAVAILABLE', true],
    ['DEADLINE_EXCEEDED', Code.DeadlineExceeded, 'TIMEOUT', true],
    ['OFFSET_OUT_OF_RANGE', Code.OutOfRange, 'INTERNAL', false],
  ])('prefers the partq-error-code header %s over the Connect code', (header, code, expected, retriable) => {
    expect(toConsumerError(new ConnectError('m', code, { [ERROR_CODE_HEADER]: header }))).toMatchObject({
      code: expected,
      retriable,
      serverCode: header,
      message: 'm',
    });
  });

  it.each([
    [Code.Unavailable, 'UNAVAILABLE'],
    [Code.Aborted, 'UNAVAILABLE'],
    [Code.DeadlineExceeded, 'TIMEOUT'],
    [Code.NotFound, 'NOT_FOUND'],
    [Code.Unauthenticated, 'PERMISSION_DENIED'],
    [Code.Unimplemented, 'INTERNAL'],
  ])('falls back to the Connect code %s without the header', (code, expected) => {
    expect(toConsumerError(new ConnectError('m', code)).code).toBe(expected);
  });

  it('treats network failures as UNAVAILABLE and a fired signal as ABORTED', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(toConsumerError(refused).code).toBe('UNAVAILABLE');
    expect(toConsumerError(new ConnectError('m', Code.Canceled), AbortSignal.abort()).code).toBe('ABORTED');
  });

  it('passes ConsumerErrors through', () => {
    const own = new ConsumerError('CLOSED', 'closed');
    expect(toConsumerError(own)).toBe(own);
  });
});
