import { Socket } from 'node:net';

/**
 * The environment variable that names a descriptor the launcher keeps open for as long as it
 * lives (the read end of a pipe or socket it never writes to).
 */
export const LIFELINE_FD_ENV = 'PARTQ_LIFELINE_FD';

/**
 * Calls `onGone` once when the launcher that started this process is gone: the kernel closes the
 * launcher's end of the lifeline however it ended, SIGKILL included, and the read here sees the
 * end. Signals cannot tell that (a SIGKILLed parent sends none), and roles run in process groups
 * of their own, out of reach of the terminal's. Returns false, watching nothing, when no lifeline
 * was handed down (a role started by hand or by a service manager).
 */
export function watchLifeline(onGone: () => void, env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env[LIFELINE_FD_ENV];
  if (raw === undefined || raw === '') return false;
  const fd = Number(raw);
  // 0-2 are stdio: never mistake them for a lifeline.
  if (!Number.isInteger(fd) || fd < 3) {
    process.stderr.write(`partq: ignoring ${LIFELINE_FD_ENV}=${raw}: not a descriptor above 2\n`);
    return false;
  }
  // Whatever runs under this process must not take the lifeline for its own.
  delete env[LIFELINE_FD_ENV];
  const line = new Socket({ fd, readable: true, writable: false });
  let gone = false;
  const end = (): void => {
    if (gone) return;
    gone = true;
    line.destroy();
    onGone();
  };
  line.on('data', () => undefined); // nothing is written; reading is how the end is seen
  line.once('end', end);
  line.once('close', end);
  line.once('error', end);
  // The lifeline must not keep an otherwise finished process alive.
  line.unref();
  return true;
}
