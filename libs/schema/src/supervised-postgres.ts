import { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded.js';
import { silentLogger, type Logger } from './logger.js';
import { RestartFailures } from './restart-failures.js';

/** An embedded PostgreSQL that is started again, on the same port and data directory, whenever it dies. */
export interface SupervisedPostgres {
  readonly url: string;
  /** The postmaster now; undefined while it is being started again. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** How long to wait between attempts to start a dead server again (its backends may linger). */
const RESTART_BACKOFF_MS = [250, 500, 1000, 2000];

/**
 * Starts an embedded PostgreSQL and supervises it as a launcher supervises its processes: if it
 * dies (SIGKILL, the OOM killer), it is started again with the same options, so its URL stays valid
 * and clients reconnect. `onEvent` is told about every death and restart.
 */
export async function startSupervisedPostgres(options: EmbeddedPostgresOptions, onEvent: (message: string) => void): Promise<SupervisedPostgres> {
  const first = await startEmbeddedPostgres(options);
  let server: EmbeddedPostgres | undefined = first;
  let stopping = false;
  let restarting: Promise<void> | undefined;

  const restartUntilUp = async (): Promise<void> => {
    const failures = new RestartFailures(options.dataDir);
    for (let attempt = 0; !stopping; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)]));
      if (stopping) return;
      const attemptLogger = errorsAsDebugUntilStarted(options.logger ?? silentLogger);
      try {
        const restarted = await startEmbeddedPostgres({ ...options, logger: attemptLogger });
        attemptLogger.started();
        if (stopping) {
          await restarted.stop();
          return;
        }
        supervise(restarted);
        onEvent(`embedded PostgreSQL restarted (pid ${restarted.pid})`);
        return;
      } catch (error) {
        const message = failures.report(error);
        if (message !== undefined) onEvent(message);
      }
    }
  };

  const supervise = (running: EmbeddedPostgres): void => {
    server = running;
    void running.exited.then(() => {
      if (stopping || server !== running) return;
      server = undefined;
      onEvent(`embedded PostgreSQL (pid ${running.pid}) exited; restarting`);
      restarting = restartUntilUp();
    });
  };

  supervise(first);
  return {
    url: first.url,
    get pid() {
      return server?.pid;
    },
    async stop() {
      stopping = true;
      await restarting;
      await server?.stop();
    },
  };
}

/**
 * The logger of one restart attempt. A failed attempt's FATAL line is in the error that
 * RestartFailures reports (once, then every 30 s); said again by the server's output on every
 * attempt, 2 s apart, it filled the log of a long outage. Once the server is up, its errors are
 * errors again.
 */
function errorsAsDebugUntilStarted(logger: Logger): Logger & { started(): void } {
  let starting = true;
  return {
    debug: (message) => logger.debug(message),
    info: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
    error: (message) => (starting ? logger.debug(message) : logger.error(message)),
    started: () => {
      starting = false;
    },
  };
}
