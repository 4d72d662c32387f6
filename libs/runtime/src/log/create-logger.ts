import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { currentRequestId } from '../context/request-context.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** The app: manager, broker, replica, gateway... */
  role: string;
  /** Which process of that role (several brokers run at once). */
  instanceId: string;
  /** Defaults to 'info'. */
  level?: Level | 'silent';
  /** Where JSON lines go; stdout when omitted (tests pass a stream to read them back). */
  destination?: DestinationStream;
  /**
   * 'json' (one object per line), 'pretty' (coloured, for people), or 'auto' (default): pretty when
   * stdout is a terminal, JSON otherwise (files, pipes, log shippers).
   */
  format?: 'json' | 'pretty' | 'auto';
}

function useColour(format: LoggerOptions['format']): boolean {
  const chosen = format ?? (process.env.PARTQ_LOG_FORMAT as LoggerOptions['format']) ?? 'auto';
  return chosen === 'pretty' || (chosen === 'auto' && process.stdout.isTTY === true);
}

/**
 * One JSON object per line on stdout, each carrying `role` and `instance`, so the lines of every
 * process of a cluster can be merged and filtered, and `requestId` while a request is served. ISO
 * timestamps, because people read them too.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { role: options.role, instance: options.instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The request being served, so one produce can be followed from gateway to broker.
      mixin: () => {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { requestId };
      },
    },
    options.destination ??
      (useColour(options.format)
        ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
        : stdoutLines()),
  );
}

/**
 * stdout, each line written as it is logged. Not sonic-boom's buffered mode: at exit it writes what
 * it still holds with a loop that retries any failed write, so a role whose reader had gone (a
 * killed launcher) logging two lines as it stopped never exited. A role logs a few lines a second,
 * not one per message, so the write each costs does not show; a failed one stops the logging.
 */
function stdoutLines(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}
