/**
 * Error codes of Node (net, http, http2, streams, dns) and undici that mean "could not reach the
 * other side (now)": a failure worth retrying, on another connection or another peer.
 */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
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
  // The other side closed the stream mid-answer, or before a write to it.
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** How many `cause` links are followed: fetch, pg and Connect wrap the system error a few deep. */
const MAX_CAUSE_DEPTH = 8;

/** Whether an error's `code` property names a network failure. */
export function isNetworkErrorCode(code: unknown): boolean {
  return typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
}

/** Whether `error`, or an error along its `cause` chain, is a network failure. */
export function isNetworkFailure(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < MAX_CAUSE_DEPTH; depth++) {
    if (isNetworkErrorCode((e as { code?: unknown }).code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
