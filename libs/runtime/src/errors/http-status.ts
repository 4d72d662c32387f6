import type { ErrorCode } from './error-code.js';

/**
 * HTTP status for each code on the REST API. EMPTY is 200: "no message right now" is a normal
 * answer to a consume, not a failure. CANCELLED uses 499 (client closed request), as nginx does.
 */
const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  OUT_OF_ORDER_SEQUENCE: 409,
  SEQUENCE_GAP: 409,
  PAYLOAD_TOO_LARGE: 413,
  OFFSET_OUT_OF_RANGE: 416,
  EMPTY: 200,
  UNAVAILABLE: 503,
  STALE_EPOCH: 503,
  NOT_OWNER: 503,
  DEADLINE_EXCEEDED: 504,
  CANCELLED: 499,
  INTERNAL: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}
