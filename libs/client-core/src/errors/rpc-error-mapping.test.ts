import { Code, ConnectError } from '@connectrpc/connect';
import { ClientError } from './client-error.js';
import type { ClientErrors, ClientFailureCode } from './client-failure.js';
import { describeRpcFailure, ERROR_CODE_HEADER, serverErrorOf, toClientError } from './rpc-error-mapping.js';

class TestError extends ClientError<ClientFailureCode> {
  override readonly name = 'TestError';
}
const errors: ClientErrors<TestError> = {
  fromFailure: ({ code, message, ...options }) => new TestError(code, message, options),
  isOwn: (error): error is TestError => error instanceof TestError,
};

describe('describeRpcFailure', () => {
  it.each([
    ['PAYLOAD_TOO_LARGE', Code.ResourceExhausted, 'PAYLOAD_TOO_LARGE'],
    ['STALE_EPOCH', Code.FailedPrecondition, 'UNAVAILABLE'],
    ['NOT_OWNER', Code.FailedPrecondition, 'UNAVAILABLE'],
    ['OUT_OF_ORDER_SEQUENCE', Code.FailedPrecondition, 'OUT_OF_ORDER_SEQUENCE'],
    ['SEQUENCE_GAP', Code.Aborted, 'UNAVAILABLE'],
    ['OFFSET_OUT_OF_RANGE', Code.OutOfRange, 'OUT_OF_RANGE'],
    ['DEADLINE_EXCEEDED', Code.DeadlineExceeded, 'TIMEOUT'],
    ['UNAUTHENTICATED', Code.Unauthenticated, 'PERMISSION_DENIED'],
    ['EMPTY', Code.NotFound, 'NOT_FOUND'],
  ])('prefers the partq-error-code header %s over the Connect code', (header, code, expected) => {
    const failure = describeRpcFailure(new ConnectError('refused', code, { [ERROR_CODE_HEADER]: header }));
    expect(failure).toMatchObject({ code: expected, serverCode: header, message: 'refused' });
  });

  it.each([
    [Code.InvalidArgument, 'INVALID_ARGUMENT'],
    [Code.NotFound, 'NOT_FOUND'],
    [Code.AlreadyExists, 'ALREADY_EXISTS'],
    [Code.PermissionDenied, 'PERMISSION_DENIED'],
    [Code.Unauthenticated, 'PERMISSION_DENIED'],
    [Code.ResourceExhausted, 'PAYLOAD_TOO_LARGE'],
    [Code.OutOfRange, 'OUT_OF_RANGE'],
    [Code.Unavailable, 'UNAVAILABLE'],
    [Code.Aborted, 'UNAVAILABLE'],
    [Code.DeadlineExceeded, 'TIMEOUT'],
    [Code.Unimplemented, 'INTERNAL'],
    [Code.Internal, 'INTERNAL'],
  ])('falls back to the Connect code %s without the header', (code, expected) => {
    expect(describeRpcFailure(new ConnectError('x', code)).code).toBe(expected);
  });

  it('ignores an unknown header value', () => {
    expect(describeRpcFailure(new ConnectError('x', Code.NotFound, { [ERROR_CODE_HEADER]: 'SOMETHING_NEW' })).code).toBe('NOT_FOUND');
  });

  it('treats a network failure in the cause chain as UNAVAILABLE', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(describeRpcFailure(new ConnectError('x', Code.Internal, undefined, undefined, reset)).code).toBe('UNAVAILABLE');
    expect(describeRpcFailure(reset).code).toBe('UNAVAILABLE');
  });

  it('reports ABORTED when the caller signal fired, whatever the transport said', () => {
    const controller = new AbortController();
    controller.abort();
    expect(describeRpcFailure(new ConnectError('x', Code.Canceled), controller.signal).code).toBe('ABORTED');
    expect(describeRpcFailure(new ConnectError('x', Code.Canceled)).code).toBe('UNAVAILABLE');
  });

  it('wraps anything else as INTERNAL, and a TimeoutError as TIMEOUT', () => {
    expect(describeRpcFailure(new Error('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom' });
    expect(describeRpcFailure(Object.assign(new Error('late'), { name: 'TimeoutError' })).code).toBe('TIMEOUT');
  });
});

describe('toClientError', () => {
  it("builds the client's error, retriable only for UNAVAILABLE and TIMEOUT", () => {
    const unavailable = toClientError(errors, new ConnectError('x', Code.Unavailable));
    expect(unavailable).toBeInstanceOf(TestError);
    expect(unavailable).toMatchObject({ code: 'UNAVAILABLE', retriable: true });
    expect(toClientError(errors, new ConnectError('x', Code.NotFound))).toMatchObject({ code: 'NOT_FOUND', retriable: false });
  });

  it("passes the client's own errors through", () => {
    const own = new TestError('CLOSED', 'closed');
    expect(toClientError(errors, own)).toBe(own);
  });
});

describe('serverErrorOf', () => {
  it("reads the server's code and details, also through a client error's cause", () => {
    const answer = new ConnectError('producer 7 is not registered', Code.NotFound, {
      'partq-error-code': 'NOT_FOUND',
      'partq-error-details': JSON.stringify({ producerId: 7 }),
    });
    expect(serverErrorOf(answer)).toEqual({ code: 'NOT_FOUND', details: { producerId: 7 } });
    expect(serverErrorOf(new Error('wrapped', { cause: answer }))).toEqual({ code: 'NOT_FOUND', details: { producerId: 7 } });
  });

  it('answers no details for a missing or unreadable header, and nothing without the server code', () => {
    expect(serverErrorOf(new ConnectError('x', Code.NotFound, { 'partq-error-code': 'NOT_FOUND', 'partq-error-details': '{oops' }))).toEqual({ code: 'NOT_FOUND', details: {} });
    expect(serverErrorOf(new ConnectError('x', Code.NotFound, { 'partq-error-code': 'NOT_FOUND', 'partq-error-details': '[1]' }))).toEqual({ code: 'NOT_FOUND', details: {} });
    expect(serverErrorOf(new ConnectError('x', Code.Unavailable))).toBeUndefined();
    expect(serverErrorOf(new Error('plain'))).toBeUndefined();
  });
});
