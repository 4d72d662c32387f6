import { Code, ConnectError } from '@connectrpc/connect';
import type { ClientErrors, ClientFailure, ClientFailureCode } from './client-failure.js';
import { isNetworkFailure } from './network-failure.js';

/** Response metadata key in which the partq server names the error exactly. */
export const ERROR_CODE_HEADER = 'partq-error-code';
/** Response metadata key in which the partq server adds what the error is about, as a JSON object. */
export const ERROR_DETAILS_HEADER = 'partq-error-details';

/**
 * The server's code and details of what an RPC call threw (or of the ConnectError a client error
 * was made from), when it was the server's answer.
 */
export function serverErrorOf(error: unknown): { code: string; details: Record<string, unknown> } | undefined {
  if (!(error instanceof ConnectError)) return error instanceof Error && error.cause !== undefined ? serverErrorOf(error.cause) : undefined;
  const code = error.metadata.get(ERROR_CODE_HEADER);
  if (code === null) return undefined;
  let details: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(error.metadata.get(ERROR_DETAILS_HEADER) ?? '{}');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) details = parsed as Record<string, unknown>;
  } catch {
    // Details are a courtesy: an unreadable header is no details.
  }
  return { code, details };
}

/**
 * The server's codes (see the partq error catalogue) as the clients report them. The server speaks a
 * few more codes than a client needs to tell apart: partition moves are retriable UNAVAILABLE. A
 * sequence the broker no longer remembers keeps its own code: the batch may or may not have landed,
 * so it must not be retried blindly.
 */
const FROM_SERVER_CODE: Record<string, ClientFailureCode> = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  EMPTY: 'NOT_FOUND',
  UNAVAILABLE: 'UNAVAILABLE',
  STALE_EPOCH: 'UNAVAILABLE',
  NOT_OWNER: 'UNAVAILABLE',
  OUT_OF_ORDER_SEQUENCE: 'OUT_OF_ORDER_SEQUENCE',
  // A batch that reached its partition before an earlier one of the same producer: worth another
  // attempt once that one landed (the producer decides when; see its partition chains).
  SEQUENCE_GAP: 'UNAVAILABLE',
  OFFSET_OUT_OF_RANGE: 'OUT_OF_RANGE',
  UNAUTHENTICATED: 'PERMISSION_DENIED',
  DEADLINE_EXCEEDED: 'TIMEOUT',
  // The server cancelled the call without our asking (it is shutting down): try again elsewhere.
  CANCELLED: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
};

/**
 * For errors without the header: raised by Connect itself, a proxy, or the network. connect-node reports
 * a reset connection as Aborted, so Aborted counts as UNAVAILABLE; Canceled without our own signal
 * having fired means the other side gave up, which is also worth a retry.
 */
const FROM_CONNECT_CODE: Record<Code, ClientFailureCode> = {
  [Code.Canceled]: 'UNAVAILABLE',
  [Code.Unknown]: 'INTERNAL',
  [Code.InvalidArgument]: 'INVALID_ARGUMENT',
  [Code.DeadlineExceeded]: 'TIMEOUT',
  [Code.NotFound]: 'NOT_FOUND',
  [Code.AlreadyExists]: 'ALREADY_EXISTS',
  [Code.PermissionDenied]: 'PERMISSION_DENIED',
  [Code.ResourceExhausted]: 'PAYLOAD_TOO_LARGE',
  [Code.FailedPrecondition]: 'INVALID_ARGUMENT',
  [Code.Aborted]: 'UNAVAILABLE',
  [Code.OutOfRange]: 'OUT_OF_RANGE',
  [Code.Unimplemented]: 'INTERNAL',
  [Code.Internal]: 'INTERNAL',
  [Code.Unavailable]: 'UNAVAILABLE',
  [Code.DataLoss]: 'INTERNAL',
  [Code.Unauthenticated]: 'PERMISSION_DENIED',
};

/**
 * Describes whatever an RPC call threw: `partq-error-code` when the server sent it, otherwise the
 * Connect code, with network failures (found along the `cause` chain) as UNAVAILABLE. `signal` is the
 * caller's: when it fired, the failure is ABORTED whatever the transport made of it.
 */
export function describeRpcFailure(error: unknown, signal?: AbortSignal): ClientFailure {
  if (signal?.aborted) return abortedFailure(signal);
  if (error instanceof ConnectError) {
    const serverCode = error.metadata.get(ERROR_CODE_HEADER) ?? undefined;
    const mapped = serverCode !== undefined ? FROM_SERVER_CODE[serverCode] : undefined;
    if (mapped !== undefined) return { code: mapped, message: error.rawMessage, cause: error, serverCode };
    let code = FROM_CONNECT_CODE[error.code] ?? 'INTERNAL';
    if (code === 'INTERNAL' && isNetworkFailure(error)) code = 'UNAVAILABLE';
    return { code, message: error.rawMessage, cause: error, ...(serverCode === undefined ? {} : { serverCode }) };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (isNetworkFailure(error)) return { code: 'UNAVAILABLE', message, cause: error };
  const name = error instanceof Error ? error.name : undefined;
  if (name === 'TimeoutError') return { code: 'TIMEOUT', message, cause: error };
  return { code: 'INTERNAL', message, cause: error };
}

/** The failure of a call whose caller's signal fired. */
export function abortedFailure(signal: AbortSignal): ClientFailure {
  return { code: 'ABORTED', message: 'the operation was aborted', cause: signal.reason };
}

/** Turns whatever an RPC call threw into the client's own error; the client's own errors pass through. */
export function toClientError<E extends Error>(errors: ClientErrors<E>, error: unknown, signal?: AbortSignal): E {
  if (errors.isOwn(error)) return error;
  return errors.fromFailure(describeRpcFailure(error, signal));
}
