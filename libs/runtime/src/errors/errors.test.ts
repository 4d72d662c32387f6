import { Code, ConnectError } from '@connectrpc/connect';
import {
  ERROR_CODE_HEADER,
  ERROR_DETAILS_HEADER,
  connectCodeOf,
  fromConnectError,
  toConnectError,
} from './connect-mapping.js';
import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-code.js';
import { httpStatusOf } from './http-status.js';
import { PartqError } from './partq-error.js';
import { isSupersededRun, supersededRunError } from './superseded.js';

describe('PartqError', () => {
  it('carries code, message, details and cause', () => {
    const cause = new Error('disk');
    const err = new PartqError('NOT_FOUND', 'topic "orders" not found', { topic: 'orders' }, { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PartqError');
    expect(err.code).toBe('NOT_FOUND');
    expect(err.details).toEqual({ topic: 'orders' });
    expect(err.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: 'NOT_FOUND', message: 'topic "orders" not found', details: { topic: 'orders' } });
  });

  it('is retriable exactly for UNAVAILABLE, STALE_EPOCH, NOT_OWNER, DEADLINE_EXCEEDED and SEQUENCE_GAP', () => {
    const retriable = ERROR_CODES.filter((code) => new PartqError(code, 'x').retriable);
    expect(retriable.sort()).toEqual(['DEADLINE_EXCEEDED', 'NOT_OWNER', 'SEQUENCE_GAP', 'STALE_EPOCH', 'UNAVAILABLE']);
  });

  it('recognises its codes', () => {
    expect(isErrorCode('EMPTY')).toBe(true);
    expect(isErrorCode('OK')).toBe(false);
    expect(isErrorCode(3)).toBe(false);
  });
});

describe('httpStatusOf', () => {
  it.each<[ErrorCode, number]>([
    ['INVALID_ARGUMENT', 400],
    ['UNAUTHENTICATED', 401],
    ['PERMISSION_DENIED', 403],
    ['NOT_FOUND', 404],
    ['ALREADY_EXISTS', 409],
    ['OUT_OF_ORDER_SEQUENCE', 409],
    ['PAYLOAD_TOO_LARGE', 413],
    ['OFFSET_OUT_OF_RANGE', 416],
    ['EMPTY', 200],
    ['UNAVAILABLE', 503],
    ['STALE_EPOCH', 503],
    ['NOT_OWNER', 503],
    ['DEADLINE_EXCEEDED', 504],
    ['CANCELLED', 499],
    ['INTERNAL', 500],
  ])('%s -> %i', (code, status) => {
    expect(httpStatusOf(code)).toBe(status);
  });
});

describe('connectCodeOf', () => {
  it.each<[ErrorCode, Code]>([
    ['INVALID_ARGUMENT', Code.InvalidArgument],
    ['NOT_FOUND', Code.NotFound],
    ['ALREADY_EXISTS', Code.AlreadyExists],
    ['PERMISSION_DENIED', Code.PermissionDenied],
    ['PAYLOAD_TOO_LARGE', Code.ResourceExhausted],
    ['EMPTY', Code.NotFound],
    ['UNAVAILABLE', Code.Unavailable],
    ['STALE_EPOCH', Code.FailedPrecondition],
    ['NOT_OWNER', Code.FailedPrecondition],
    ['OUT_OF_ORDER_SEQUENCE', Code.FailedPrecondition],
    ['OFFSET_OUT_OF_RANGE', Code.OutOfRange],
    ['UNAUTHENTICATED', Code.Unauthenticated],
    ['DEADLINE_EXCEEDED', Code.DeadlineExceeded],
    ['CANCELLED', Code.Canceled],
    ['INTERNAL', Code.Internal],
  ])('%s -> Code %i', (code, connectCode) => {
    expect(connectCodeOf(code)).toBe(connectCode);
  });
});

describe('toConnectError / fromConnectError', () => {
  it.each(ERROR_CODES)('round-trips %s with its message and details', (code) => {
    const details = { topic: 'orders', partition: 3, expected: [1, 2], note: 'naïve ✓' };
    const connectError = toConnectError(new PartqError(code, `failed with ${code}`, details));
    expect(connectError.code).toBe(connectCodeOf(code));
    expect(connectError.metadata.get(ERROR_CODE_HEADER)).toBe(code);
    // Header values must be printable ASCII.
    expect(connectError.metadata.get(ERROR_DETAILS_HEADER)).toMatch(/^[\x20-\x7e]+$/);

    const back = fromConnectError(connectError);
    expect(back).toBeInstanceOf(PartqError);
    expect(back.code).toBe(code);
    expect(back.message).toBe(`failed with ${code}`);
    expect(back.details).toEqual(details);
  });

  it('survives a hop: a downstream error rethrown by a handler keeps its partq code', () => {
    const downstream = toConnectError(new PartqError('STALE_EPOCH', 'epoch 4 < 5', { epoch: 5 }));
    const relayed = fromConnectError(toConnectError(fromConnectError(downstream)));
    expect(relayed.code).toBe('STALE_EPOCH');
    expect(relayed.details).toEqual({ epoch: 5 });
  });

  it('hides unexpected errors behind a generic INTERNAL', () => {
    const err = new Error('SELECT * FROM secrets failed at /srv/app.js:12');
    const connectError = toConnectError(err);
    expect(connectError.code).toBe(Code.Internal);
    expect(connectError.rawMessage).toBe('internal error');
    expect(connectError.metadata.get(ERROR_CODE_HEADER)).toBe('INTERNAL');
    expect(connectError.rawMessage).not.toContain('secrets');
  });

  // The fields pg's DatabaseError carries; a real one, from a real PostgreSQL, is in the manager's tests.
  const databaseError = (code: string, message: string): Error => Object.assign(new Error(message), { severity: 'ERROR', code });

  it("says the Central DB's own failures are UNAVAILABLE, naming the cause without the database's text", () => {
    const full = toConnectError(databaseError('53100', 'could not extend file "base/16384/16543": No space left on device'));
    expect(full.code).toBe(Code.Unavailable);
    expect(full.metadata.get(ERROR_CODE_HEADER)).toBe('UNAVAILABLE');
    expect(full.rawMessage).toBe('the central database is out of disk space');
    expect(toConnectError(databaseError('53300', 'sorry, too many clients already')).rawMessage).toBe('the central database has too many connections');
    expect(toConnectError(databaseError('57P03', 'the database system is starting up')).rawMessage).toBe('the central database is shutting down or restarting');
    expect(toConnectError(new Error('sync failed', { cause: databaseError('08006', 'connection failure') })).rawMessage).toBe(
      'the connection to the central database failed',
    );
  });

  it('keeps any other database error a generic INTERNAL', () => {
    const connectError = toConnectError(databaseError('42P01', 'relation "secrets" does not exist'));
    expect(connectError.code).toBe(Code.Internal);
    expect(connectError.rawMessage).toBe('internal error');
  });

  it('reports a network failure of a dependency as UNAVAILABLE', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(toConnectError(err).code).toBe(Code.Unavailable);
    expect(fromConnectError(err).code).toBe('UNAVAILABLE');
    expect(fromConnectError(new TypeError('fetch failed', { cause: err })).code).toBe('UNAVAILABLE');
    const destroyed = Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' });
    expect(fromConnectError(destroyed).code).toBe('UNAVAILABLE');
  });

  it('reads a refused connection that connect-node reports as Internal as UNAVAILABLE', () => {
    const socketError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = new ConnectError('Error: connect ECONNREFUSED 127.0.0.1:1', Code.Internal, undefined, undefined, socketError);
    expect(fromConnectError(err).code).toBe('UNAVAILABLE');
    expect(fromConnectError(new ConnectError('bug', Code.Internal, undefined, undefined, new Error('bug'))).code).toBe('INTERNAL');
  });

  it('maps plain ConnectErrors by their Connect code', () => {
    expect(fromConnectError(new ConnectError('down', Code.Unavailable)).code).toBe('UNAVAILABLE');
    expect(fromConnectError(new ConnectError('down', Code.Unavailable)).retriable).toBe(true);
    expect(fromConnectError(new ConnectError('bad', Code.InvalidArgument)).code).toBe('INVALID_ARGUMENT');
    expect(fromConnectError(new ConnectError('big', Code.ResourceExhausted)).code).toBe('PAYLOAD_TOO_LARGE');
    expect(fromConnectError(new ConnectError('late', Code.DeadlineExceeded)).code).toBe('DEADLINE_EXCEEDED');
    expect(fromConnectError(new ConnectError('gone', Code.Canceled)).code).toBe('CANCELLED');
    expect(fromConnectError(new ConnectError('huh', Code.Unimplemented)).code).toBe('INTERNAL');
  });

  it('keeps the raw message of a ConnectError, not Connect\'s "[code]" prefix', () => {
    const err = new ConnectError('no such topic', Code.NotFound);
    expect(err.message).toBe('[not_found] no such topic');
    expect(fromConnectError(err).message).toBe('no such topic');
  });

  it('prefers the partq header over the Connect code, and ignores unknown header values', () => {
    const withHeader = new ConnectError('x', Code.NotFound, { [ERROR_CODE_HEADER]: 'EMPTY' });
    expect(fromConnectError(withHeader).code).toBe('EMPTY');
    const bogus = new ConnectError('x', Code.NotFound, { [ERROR_CODE_HEADER]: 'NOPE', [ERROR_DETAILS_HEADER]: '{broken' });
    expect(fromConnectError(bogus).code).toBe('NOT_FOUND');
    expect(fromConnectError(bogus).details).toBeUndefined();
  });

  it('gives a ConnectError thrown by a handler the partq header', () => {
    const converted = toConnectError(new ConnectError('bad offset', Code.OutOfRange));
    expect(converted.metadata.get(ERROR_CODE_HEADER)).toBe('OFFSET_OUT_OF_RANGE');
    expect(converted.rawMessage).toBe('bad offset');
  });

  it('drops details that cannot be sent, but keeps the error', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const c1 = toConnectError(new PartqError('INVALID_ARGUMENT', 'x', circular));
    expect(c1.metadata.get(ERROR_DETAILS_HEADER)).toBeNull();
    const huge = toConnectError(new PartqError('INVALID_ARGUMENT', 'x', { blob: 'a'.repeat(10_000) }));
    expect(huge.metadata.get(ERROR_DETAILS_HEADER)).toBeNull();
    expect(fromConnectError(huge).code).toBe('INVALID_ARGUMENT');
    const big = toConnectError(new PartqError('INVALID_ARGUMENT', 'x', { offset: 12n }));
    expect(fromConnectError(big).details).toEqual({ offset: '12' });
  });

  it('returns a PartqError unchanged', () => {
    const err = new PartqError('EMPTY', 'nothing');
    expect(fromConnectError(err)).toBe(err);
  });

  it('maps aborts to CANCELLED', () => {
    const abort = new DOMException('aborted', 'AbortError');
    expect(fromConnectError(abort).code).toBe('CANCELLED');
    expect(fromConnectError('a string').code).toBe('INTERNAL');
  });
});

describe('supersededRunError', () => {
  test('is UNAVAILABLE, and says so across a Connect hop', () => {
    const error = supersededRunError('taken over', { consumerId: 3 });
    expect(error).toMatchObject({ code: 'UNAVAILABLE', details: { consumerId: 3, superseded: true } });
    const relayed = fromConnectError(toConnectError(error));
    expect(relayed.code).toBe('UNAVAILABLE');
    expect(isSupersededRun(relayed)).toBe(true);
    expect(isSupersededRun(new PartqError('UNAVAILABLE', 'the path broke'))).toBe(false);
    expect(isSupersededRun(new PartqError('INTERNAL', 'odd', { superseded: true }))).toBe(false);
  });
});
