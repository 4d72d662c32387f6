import { ConfigError, HelpRequested } from '../config/config-error.js';

export interface RunningService {
  stop(): Promise<void>;
}

/**
 * The main() of every partq role: load the configuration (--help prints and exits 0, a bad
 * value exits 2 before anything starts), start, and on SIGTERM/SIGINT stop gracefully
 * (in-flight requests finish, logs and WALs are flushed) then exit 0. A failed start exits 1.
 */
export async function runService<C>(
  role: string,
  loadConfig: () => C,
  start: (config: C) => Promise<RunningService>,
): Promise<void> {
  let config: C;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(error.text);
      process.exit(0);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`partq-${role}: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  let service: RunningService;
  try {
    service = await start(config);
  } catch (error) {
    process.stderr.write(`partq-${role}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`partq-${role}: stop after ${signal} failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
