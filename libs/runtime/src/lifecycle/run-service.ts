import { exitOnConfigError } from '../config/load-config-or-exit.js';
import { watchLifeline } from './lifeline.js';

export interface RunningService {
  stop(): Promise<void>;
}

export interface ServiceMain<C> {
  /** The role's name: messages say `partq-<role>: …`. */
  role: string;
  /** Reads flags and environment; throws HelpRequested for --help and ConfigError for a bad value. */
  loadConfig: () => C;
  start: (config: C) => Promise<RunningService>;
  /** Longest a graceful stop may take before the process exits 1 anyway (default 20 s). */
  graceMs?: number;
}

const DEFAULT_GRACE_MS = 20_000;

/**
 * The main() of every partq role: load the configuration (--help prints and exits 0, a bad
 * value exits 2 before anything starts), start (a failed start exits 1), and on SIGTERM, SIGINT
 * or SIGHUP stop gracefully (in-flight requests finish, logs and WALs are flushed) then exit 0.
 * A second signal, or a stop longer than the grace period, exits 1 at once. A stop asked for
 * while the role is still starting runs as soon as the start is done.
 *
 * Started by a launcher that hands it a lifeline (see watchLifeline), the role also stops when
 * the launcher is gone, however it ended: a SIGKILLed `npm start` leaves no role behind.
 */
export async function runService<C>(main: ServiceMain<C>): Promise<void> {
  const program = `partq-${main.role}`;
  let config: C;
  try {
    config = main.loadConfig();
  } catch (error) {
    exitOnConfigError(error, program);
    throw error;
  }

  // A role must not die because whoever read its output went away (a killed launcher, `| head`).
  for (const stream of [process.stdout, process.stderr]) stream.on('error', ignoreClosedOutput);

  const graceMs = main.graceMs ?? DEFAULT_GRACE_MS;
  let service: RunningService | undefined;
  let stopReason: string | undefined;
  const stop = (): void => {
    setTimeout(() => {
      process.stderr.write(`${program}: graceful stop took longer than ${graceMs} ms; exiting\n`);
      process.exit(1);
    }, graceMs).unref();
    service!.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${program}: stop after ${stopReason} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  const requestStop = (reason: string): void => {
    // A second request means "now": skip the graceful drain.
    if (stopReason !== undefined) {
      process.stderr.write(`${program}: ${reason} while stopping; exiting now\n`);
      process.exit(1);
    }
    stopReason = reason;
    process.stderr.write(`${program}: ${reason}, stopping\n`);
    if (service) stop();
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, requestStop);
  watchLifeline(() => requestStop('the process that started it is gone'));

  try {
    service = await main.start(config);
  } catch (error) {
    process.stderr.write(`${program}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
  if (stopReason !== undefined) stop();
}

function ignoreClosedOutput(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
}
