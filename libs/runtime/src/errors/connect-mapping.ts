import { Code, ConnectError } from '@connectrpc/connect';
import { classifyForeignError } from './classify.js';
import { isErrorCode, type ErrorCode } from './error-code.js';
import { PartqError } from './partq-error.js';
import { describePostgresFailure } from './postgres-failure.js';

/** Response metadata key carrying the partq error code, so clients get it back exactly. */
export const ERROR_CODE_HEADER = 'partq-error-code';
/** Response metadata key carrying `PartqError.details` as JSON. */
export const ERROR_DETAILS_HEADER = 'partq-error-details';
/** Details longer than this are dropped: response headers are small (Node allows 16 KiB in all). */
const MAX_DETAILS_HEADER_LENGTH = 4096;

const CONNECT_CODE: Record<ErrorCode, Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  PERMISSION_DENIED: Code.PermissionDenied,
  PAYLOAD_TOO_LARGE: Code.ResourceExhausted,
  EMPTY: Code.NotFound,
  UNAVAILABLE: Code.Unavailable,
  STALE_EPOCH: Code.FailedPrecondition,
  NOT_OWNER: Code.FailedPrecondition,
  OUT_OF_ORDER_SEQUENCE: Code.FailedPrecondition,
  // gRPC's code for a failed sequencer check, which it documents as worth a retry.
  SEQUENCE_GAP: Code.Aborted,
  OFFSET_OUT_OF_RANGE: Code.OutOfRange,
  UNAUTHENTICATED: Code.Unauthenticated,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  CANCELLED: Code.Canceled,
  INTERNAL: Code.Internal,
};

/**
 * For a ConnectError that carries no partq code (raised by Connect itself, a proxy, or the network).
 * FailedPrecondition without our header cannot be told apart, so it is not retried (INVALID_ARGUMENT);
 * Aborted is a concurrency conflict that gRPC documents as retriable, so UNAVAILABLE.
 */
const FROM_CONNECT_CODE: Record<Code, ErrorCode> = {
  [Code.Canceled]: 'CANCELLED',
  [Code.Unknown]: 'INTERNAL',
  [Code.InvalidArgument]: 'INVALID_ARGUMENT',
  [Code.DeadlineExceeded]: 'DEADLINE_EXCEEDED',
  [Code.NotFound]: 'NOT_FOUND',
  [Code.AlreadyExists]: 'ALREADY_EXISTS',
  [Code.PermissionDenied]: 'PERMISSION_DENIED',
  [Code.ResourceExhausted]: 'PAYLOAD_TOO_LARGE',
  [Code.FailedPrecondition]: 'INVALID_ARGUMENT',
  [Code.Aborted]: 'UNAVAILABLE',
  [Code.OutOfRange]: 'OFFSET_OUT_OF_RANGE',
  [Code.Unimplemented]: 'INTERNAL',
  [Code.Internal]: 'INTERNAL',
  [Code.Unavailable]: 'UNAVAILABLE',
  [Code.DataLoss]: 'INTERNAL',
  [Code.Unauthenticated]: 'UNAUTHENTICATED',
};

/** Messages sent instead of the text of an unexpected error, which may hold SQL, paths or secrets. */
const GENERIC_MESSAGE: Partial<Record<ErrorCode, string>> = {
  INTERNAL: 'internal error',
  UNAVAILABLE: 'a service this request needs is unavailable',
  CANCELLED: 'request cancelled',
  DEADLINE_EXCEEDED: 'deadline exceeded',
};

export function connectCodeOf(code: ErrorCode): Code {
  return CONNECT_CODE[code];
}

/** The partq code a Connect code stands for when no `partq-error-code` came with it. */
export function errorCodeFromConnectCode(code: Code): ErrorCode {
  return FROM_CONNECT_CODE[code] ?? 'INTERNAL';
}

/**
 * Server side: turns whatever a handler threw into the ConnectError sent to the client.
 * PartqErrors keep code, message and details (in metadata); a ConnectError from a downstream call
 * is re-expressed through its partq code so the code survives every hop; anything else becomes a
 * generic INTERNAL (or UNAVAILABLE for network failures) without message or stack, and the Central
 * DB's own failures (a full disk, a restart) UNAVAILABLE with what happened.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError && isErrorCode(err.metadata.get(ERROR_CODE_HEADER))) return err;
  const partq = err instanceof PartqError || err instanceof ConnectError ? fromConnectError(err) : undefined;
  if (partq) {
    return new ConnectError(partq.message, connectCodeOf(partq.code), errorMetadata(partq), undefined, err);
  }
  const databaseFailure = describePostgresFailure(err);
  const code = databaseFailure === undefined ? classifyForeignError(err) : 'UNAVAILABLE';
  return new ConnectError(databaseFailure ?? GENERIC_MESSAGE[code] ?? 'internal error', connectCodeOf(code), { [ERROR_CODE_HEADER]: code }, undefined, err);
}

/**
 * Client side: turns an error from an RPC call back into a PartqError. Uses `partq-error-code`
 * when present, otherwise the Connect code; network failures (connect-node's Unavailable, or its
 * Internal caused by a socket error, or a raw socket error) become UNAVAILABLE.
 */
export function fromConnectError(err: unknown): PartqError {
  if (err instanceof PartqError) return err;
  if (err instanceof ConnectError) {
    const header = err.metadata.get(ERROR_CODE_HEADER);
    const code = isErrorCode(header) ? header : codeWithoutHeader(err);
    return new PartqError(code, err.rawMessage, parseDetails(err.metadata.get(ERROR_DETAILS_HEADER)), { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new PartqError(classifyForeignError(err), message, undefined, { cause: err });
}

/**
 * connect-node reports a refused or reset connection as Internal with the socket error as cause;
 * the cause tells the truth (UNAVAILABLE, worth retrying), so it wins over the Connect code.
 */
function codeWithoutHeader(err: ConnectError): ErrorCode {
  const fromCause = err.cause === undefined ? 'INTERNAL' : classifyForeignError(err.cause);
  return fromCause !== 'INTERNAL' ? fromCause : errorCodeFromConnectCode(err.code);
}

function errorMetadata(err: PartqError): Record<string, string> {
  const metadata: Record<string, string> = { [ERROR_CODE_HEADER]: err.code };
  if (err.details !== undefined) {
    const json = headerSafeJson(err.details);
    if (json !== undefined && json.length <= MAX_DETAILS_HEADER_LENGTH) metadata[ERROR_DETAILS_HEADER] = json;
  }
  return metadata;
}

/** JSON restricted to printable ASCII (header values allow nothing else); bigints become strings. */
function headerSafeJson(value: Record<string, unknown>): string | undefined {
  try {
    const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  } catch {
    return undefined; // circular or otherwise unserialisable details are simply not sent
  }
}

function parseDetails(header: string | null): Record<string, unknown> | undefined {
  if (header === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(header);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
