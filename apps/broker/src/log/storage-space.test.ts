import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalError } from '@partq/wal';
import { StorageSpace } from './storage-space.js';

/** An error as node:fs reports a failed system call. */
function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: write`), { code, syscall: 'write' });
}

const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'partq-storage-space-'));
  jest.clearAllMocks();
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('StorageSpace', () => {
  test('a write refused for want of space marks the disk full, once', () => {
    const onChange = jest.fn();
    const space = new StorageSpace({ dir, logger, onChange, probeIntervalMs: 60_000 });
    expect(space.noteWriteFailure(systemError('EIO'))).toBe(false);
    expect(space.full).toBe(false);
    expect(space.noteWriteFailure(new WalError('WRITE_FAILED', 'write failed', { cause: systemError('ENOSPC') }))).toBe(true);
    expect(space.noteWriteFailure(systemError('ENOSPC'))).toBe(true);
    expect(space.full).toBe(true);
    expect(onChange.mock.calls).toEqual([[true]]);
    expect(logger.error).toHaveBeenCalledTimes(1);
    space.stop();
  });

  test('a probe that writes and syncs its file marks the disk writable again, and leaves no file behind', async () => {
    const onChange = jest.fn();
    const space = new StorageSpace({ dir, logger, onChange, probeIntervalMs: 60_000, probeBytes: 4096 });
    space.noteWriteFailure(systemError('ENOSPC'));
    expect(await space.probeNow()).toBe(true);
    expect(space.full).toBe(false);
    expect(onChange.mock.calls).toEqual([[true], [false]]);
    expect(existsSync(join(dir, '.space-probe'))).toBe(false);
    space.stop();
  });

  test('the timer probes a full disk until it has room', async () => {
    const onChange = jest.fn();
    const space = new StorageSpace({ dir: join(dir, 'not-yet'), logger, onChange, probeIntervalMs: 10, probeBytes: 4096 });
    space.noteWriteFailure(systemError('ENOSPC'));
    // The probe cannot write in a directory that does not exist: still full, and it says why.
    await until(() => logger.warn.mock.calls.length >= 2);
    expect(space.full).toBe(true);
    expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ dir: join(dir, 'not-yet') }), expect.stringContaining('probe failed'));
    mkdirSync(join(dir, 'not-yet'));
    await until(() => !space.full);
    expect(onChange.mock.calls).toEqual([[true], [false]]);
    space.stop();
  });
});

/** Resolves once `condition` holds; checked every few milliseconds, for up to 10 s. */
async function until(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition(); ) {
    if (Date.now() > deadline) throw new Error('the condition did not hold within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
