import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MALLOC_TUNING_ENV } from './malloc-tuning.js';

/** The kernel's transparent huge page mode ("always", "madvise" or "never"), undefined where it has none. */
function thpMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** glibc, not musl or another C library: only glibc reads these variables. */
function runsOnGlibc(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime !== undefined;
}

/** KiB of anonymous memory on huge pages in a fresh Node that allocated and touched 16 MiB, with `env`. */
function hugePagesAfterTouching16MiB(env: Record<string, string>): number {
  const script = `
    Buffer.allocUnsafeSlow(16 * 1024 * 1024).fill(1);
    const rollup = require('node:fs').readFileSync('/proc/self/smaps_rollup', 'utf8');
    process.stdout.write(/AnonHugePages:\\s+(\\d+)/.exec(rollup)[1]);`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', ...env } });
  if (child.status !== 0) throw new Error(`the probe failed: ${child.stderr}`);
  return Number(child.stdout);
}

const thpUsable = runsOnGlibc() && (thpMode() === 'madvise' || thpMode() === 'always');

describe('MALLOC_TUNING_ENV', () => {
  it('keeps batch-sized buffers in the heap (up to 32 MiB) and 64 MiB of free heap before trimming', () => {
    expect(MALLOC_TUNING_ENV['MALLOC_MMAP_THRESHOLD_']).toBe(String(32 * 1024 * 1024));
    expect(MALLOC_TUNING_ENV['MALLOC_TRIM_THRESHOLD_']).toBe(String(64 * 1024 * 1024));
  });

  // A misspelt tunable is ignored without a word; this sees whether glibc acted on it. Where the
  // kernel has THP off ("never") or the C library is not glibc there is nothing to see.
  (thpUsable ? it : it.skip)('puts the heap on transparent huge pages', () => {
    expect(hugePagesAfterTouching16MiB({ ...MALLOC_TUNING_ENV })).toBeGreaterThanOrEqual(2048);
    // With THP in "madvise" mode the heap gets none unless glibc asks for them.
    if (thpMode() === 'madvise') {
      const { GLIBC_TUNABLES: _asked, ...withoutTunables } = MALLOC_TUNING_ENV;
      expect(hugePagesAfterTouching16MiB(withoutTunables)).toBe(0);
    }
  });
});
