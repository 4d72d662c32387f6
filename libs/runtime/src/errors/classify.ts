import type { ErrorCode } from './error-code.js';

/** Node and undici error codes that mean "could not reach the other side (now)". */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_INVALID_SESSION',
  // A write to a socket the other side already closed.
  'ERR_STREAM_DESTROYED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * Best code for an error that is neither a PartqError nor a ConnectError: network failures are
 * UNAVAILABLE (worth a retry), aborts CANCELLED, timeouts DEADLINE_EXCEEDED, anything else INTERNAL.
 * Looks through `cause` chains because fetch and pg wrap the system error.
 */
export function classifyForeignError(err: unknown): ErrorCode {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (name === 'AbortError') return 'CANCELLED';
    if (name === 'TimeoutError') return 'DEADLINE_EXCEEDED';
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return 'UNAVAILABLE';
    e = (e as { cause?: unknown }).cause;
  }
  return 'INTERNAL';
}
