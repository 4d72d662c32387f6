import { isOutOfSpace } from './out-of-space.js';
import { WalError } from './wal-error.js';

/** An error as node:fs reports a failed system call. */
function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: write`), { code, syscall: 'write' });
}

describe('isOutOfSpace', () => {
  test('finds ENOSPC or EDQUOT anywhere in the chain of causes', () => {
    expect(isOutOfSpace(systemError('ENOSPC'))).toBe(true);
    expect(isOutOfSpace(systemError('EDQUOT'))).toBe(true);
    expect(isOutOfSpace(new WalError('WRITE_FAILED', 'write failed', { cause: systemError('ENOSPC') }))).toBe(true);
  });

  test('is false for other failures', () => {
    expect(isOutOfSpace(systemError('EIO'))).toBe(false);
    expect(isOutOfSpace(new WalError('WRITE_FAILED', 'write failed', { cause: systemError('EACCES') }))).toBe(false);
    expect(isOutOfSpace('ENOSPC')).toBe(false);
    expect(isOutOfSpace(undefined)).toBe(false);
  });
});
