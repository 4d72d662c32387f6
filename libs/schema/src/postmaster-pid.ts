import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a running (or crashed) server wrote into its data directory's postmaster.pid. */
export interface PostmasterLock {
  pid: number;
  port: number | undefined;
  /** "starting", "ready", "stopping" or "standby" (PostgreSQL 10+); undefined while being written. */
  status: string | undefined;
}

export function postmasterPidPath(dataDir: string): string {
  return join(dataDir, 'postmaster.pid');
}

export function readPostmasterLock(dataDir: string): PostmasterLock | undefined {
  let text: string;
  try {
    text = readFileSync(postmasterPidPath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  // Lines: pid, data dir, start time, port, socket dir, listen address, shmem key, status.
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const port = Number.parseInt(lines[3] ?? '', 10);
  const status = lines[7]?.trim();
  return { pid, port: Number.isInteger(port) ? port : undefined, status: status === '' ? undefined : status };
}
