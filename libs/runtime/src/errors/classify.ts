import { isNetworkErrorCode } from '@partq/client-core';
import type { ErrorCode } from './error-code.js';

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
    if (isNetworkErrorCode(code)) return 'UNAVAILABLE';
    e = (e as { cause?: unknown }).cause;
  }
  return 'INTERNAL';
}
