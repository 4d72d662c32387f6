import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** "zombie": exited but not yet reaped by its parent; as good as gone for our purposes. */
export type ProcessState = 'running' | 'zombie' | 'gone';

export function processState(pid: number): ProcessState {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return 'gone';
  }
  const stat = readProcStat(pid);
  return stat?.[0] === 'Z' ? 'zombie' : 'running';
}

/**
 * When the process started (clock ticks since boot, from /proc), so that a recycled pid is not
 * mistaken for the process that once had it. Undefined where /proc does not exist.
 */
export function processStartTime(pid: number): string | undefined {
  // Fields after "(comm)": state is field 3 of stat(5), starttime field 22.
  return readProcStat(pid)?.[19];
}

/** Whether pid runs a PostgreSQL server binary (postmaster or backend). */
export function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    // No /proc (macOS, BSD): ask ps.
    try {
      const command = execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).trim();
      return /(^|\/)postgres$/.test(command);
    } catch {
      return false;
    }
  }
}

function readProcStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Polls until pid has exited (or is a zombie); false when it is still running at the deadline. */
export async function waitForProcessExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processState(pid) === 'running') {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

/**
 * Stops a PostgreSQL server: fast shutdown (SIGINT: roll back, checkpoint, exit), then immediate
 * shutdown (SIGQUIT), then SIGKILL. Returns false when even SIGKILL did not end it in time.
 */
export async function stopPostgresProcess(
  pid: number,
  waitForExit: (timeoutMs: number) => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<boolean> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', timeoutMs],
    ['SIGQUIT', 10_000],
    ['SIGKILL', 10_000],
  ];
  for (const [signal, wait] of steps) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
      throw error;
    }
    if (await waitForExit(wait)) return true;
  }
  return false;
}
