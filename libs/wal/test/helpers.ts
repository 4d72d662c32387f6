import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wal, type WalOptions } from '../src/index.js';

/** A fresh directory under os.tmpdir() per test, removed (with any Wal left open closed) afterwards. */
export function useTempDirs(): { make(): Promise<string>; track(wal: Wal): Wal } {
  const dirs: string[] = [];
  const wals: Wal[] = [];
  afterEach(async () => {
    for (const wal of wals.splice(0)) await wal.close().catch(() => undefined);
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  return {
    async make() {
      const dir = await mkdtemp(join(tmpdir(), 'partq-wal-'));
      dirs.push(dir);
      return dir;
    },
    track(wal) {
      wals.push(wal);
      return wal;
    },
  };
}

export async function openWal(temp: ReturnType<typeof useTempDirs>, options: WalOptions): Promise<Wal> {
  return temp.track(await Wal.open(options));
}

/** A payload that names its record, so reads can be checked without keeping copies. */
export function payload(index: number, size = 0): Buffer {
  const text = Buffer.from(`record-${index}-`);
  if (size <= text.length) return text;
  const buffer = Buffer.alloc(size, index % 251);
  text.copy(buffer);
  return buffer;
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.log')).sort();
}

export function text(data: Uint8Array): string {
  return Buffer.from(data).toString();
}
