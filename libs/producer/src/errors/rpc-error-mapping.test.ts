import { Code, ConnectError } from '@connectrpc/connect';
import { ProducerError } from './producer-error.js';
import { ERROR_CODE_HEADER, toProducerError } from './rpc-error-mapping.js';

describe('toProducerError', () => {
  it.each([
    ['PAYLOAD_TOO_LARGE', Code.ResourceExhausted, 'PAYLOAD_TOO_LARGE', false],
    ['STALE_EPOCH', Code.FailedPrecondition, 'UNAVAILABLE', true],
    ['NOT_OWNER', Code.FailedPrecondition, 'UNAVAILABLE', true],
    ['OUT_OF_ORDER_SEQUENCE', Code.FailedPrecondition, 'INTERNAL', false],
    ['DEADLINE_EXCEEDED', Code.DeadlineExceeded, 'TIMEOUT', true],
    ['UNAUTHENTICATED', Code.Unauthenticated, 'PERMISSION_DENIED', false],
    ['EMPTY', Code.NotFound, 'NOT_FOUND', false],
  ])('prefers the partq-error-code header %s over the Connect code', (header, code, expected, retriable) => {
    const error = toProducerError(new ConnectError('refused', code, { [ERROR_CODE_HEADER]: header }));
    expect(error).toMatchObject({ code: expected, retriable, serverCode: header, message: 'refused' });
  });

  it.each([
    [Code.InvalidArgument, 'INVALID_ARGUMENT'],
    [Code.NotFound, 'NOT_FOUND'],
    [Code.AlreadyExists, 'ALREADY_EXISTS'],
    [Code.PermissionDenied, 'PERMISSION_DENIED'],
    [Code.ResourceExhausted, 'PAYLOAD_TOO_LARGE'],
    [Code.Unavailable, 'UNAVAILABLE'],
    [Code.Aborted, 'UNAVAILABLE'],
    [Code.DeadlineExceeded, 'TIMEOUT'],
    [Code.Unimplemented, 'INTERNAL'],
    [Code.Internal, 'INTERNAL'],
  ])('falls back to the Connect code %s without the header', (code, expected) => {
    expect(toProducerError(new ConnectError('x', code)).code).toBe(expected);
  });

  it('ignores an unknown header value', () => {
    expect(toProducerError(new ConnectError('x', Code.NotFound, { [ERROR_CODE_HEADER]: 'SOMETHING_NEW' })).code).toBe('NOT_FOUND');
  });

  it('treats a network failure in the cause chain as UNAVAILABLE', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(toProducerError(new ConnectError('x', Code.Internal, undefined, undefined, reset)).code).toBe('UNAVAILABLE');
    expect(toProducerError(reset).code).toBe('UNAVAILABLE');
  });

  it('reports ABORTED when the caller signal fired, whatever the transport said', () => {
    const controller = new AbortController();
    controller.abort();
    expect(toProducerError(new ConnectError('x', Code.Canceled), controller.signal).code).toBe('ABORTED');
    expect(toProducerError(new ConnectError('x', Code.Canceled)).code).toBe('UNAVAILABLE');
  });

  it('passes ProducerErrors through and wraps anything else as INTERNAL', () => {
    const own = new ProducerError('CLOSED', 'closed');
    expect(toProducerError(own)).toBe(own);
    const wrapped = toProducerError(new Error('boom'));
    expect(wrapped).toMatchObject({ code: 'INTERNAL', message: 'boom', retriable: false });
  });
});
