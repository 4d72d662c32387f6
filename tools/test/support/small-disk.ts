import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * A disk that fills up: a tmpfs of a few MiB mounted on a directory (needs root and mount(8)).
 * Writes past its size fail with ENOSPC, as on a full disk.
 */

/**
 * Why a small disk cannot be mounted here, or undefined when it can. Synchronous, so a test file
 * can choose `describe` or `describe.skip` while it loads.
 */
export function whySmallDiskUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = mkdtempSync(join(tmpdir(), 'partq-small-disk-probe-'));
  try {
    mountSmallDisk(dir, 1)();
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Mounts a tmpfs of `mebibytes` MiB on `dir` (made if missing); returns what unmounts it. */
export function mountSmallDisk(dir: string, mebibytes: number): () => void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mebibytes}m`, `partq-test-${process.pid}`, dir], { stdio: 'pipe' });
  return () => {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      // Still busy (a process that has not exited yet): detach it now, freed when the last file closes.
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
  };
}
