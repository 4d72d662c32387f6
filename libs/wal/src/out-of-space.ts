/**
 * Whether `error`, or an error it was caused by (a WalError's cause, say), is a write refused for
 * want of space: ENOSPC, or EDQUOT under a quota. A full disk is worth telling apart from other
 * failed writes: it passes once there is room, and an operator can make some.
 */
export function isOutOfSpace(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}
