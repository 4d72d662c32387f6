import { open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const LOCK_FILE = 'broker.lock';

/** Data directories locked by this process (a pid check cannot tell two brokers of one process apart). */
const lockedHere = new Set<string>();

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly code = 'DATA_DIR_LOCKED' as const;
}

/**
 * Makes sure one broker at a time uses a data directory: two writers on one WAL would corrupt it.
 * The lock file holds the owner's pid; a lock whose process is gone (SIGKILL, crash) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  if (lockedHere.has(dir)) throw new DataDirLockedError(`data directory ${dir} is already used by a broker in this process`);
  const holder = await readHolder(path);
  if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
    throw new DataDirLockedError(`data directory ${dir} is used by another broker (pid ${holder}); remove ${path} if that is wrong`);
  }
  lockedHere.add(dir);
  const file = await open(path, 'w');
  try {
    await file.writeFile(`${process.pid}\n`);
  } finally {
    await file.close();
  }
  return async () => {
    lockedHere.delete(dir);
    await rm(path, { force: true });
  };
}

async function readHolder(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
