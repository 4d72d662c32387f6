import { startEmbeddedPostgres, type EmbeddedPostgres } from '@partq/schema';

export interface ClusterDatabaseOptions {
  /** An existing PostgreSQL; when empty, one is embedded under `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  port: number;
  /** Start the embedded server again whenever it dies (as the launcher does for every role). */
  restart: boolean;
  say: (message: string) => void;
}

export interface ClusterDatabase {
  url: string;
  embedded: boolean;
  /** The embedded server's postmaster now (undefined for a URL, or while it is being restarted). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** How long to wait between attempts to start a dead embedded server again (its backends may linger). */
const RESTART_BACKOFF_MS = [250, 500, 1000, 2000];

/**
 * The cluster's Central DB: the given URL, or an embedded PostgreSQL on a fixed port and data
 * directory. The embedded one is supervised like the roles: if it dies (SIGKILL, the OOM killer),
 * it is started again on the same port, so its URL stays valid and the roles reconnect.
 */
export async function startClusterDatabase(options: ClusterDatabaseOptions): Promise<ClusterDatabase> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    return { url: options.databaseUrl, embedded: false, pid: undefined, stop: async () => undefined };
  }
  const start = (): Promise<EmbeddedPostgres> => startEmbeddedPostgres({ dataDir: options.dataDir, port: options.port });
  let server: EmbeddedPostgres | undefined = await start();
  let stopping = false;
  let restarting: Promise<void> | undefined;

  const supervise = (running: EmbeddedPostgres): void => {
    void running.exited.then(() => {
      if (stopping || !options.restart || server !== running) return;
      server = undefined;
      options.say(`embedded PostgreSQL (pid ${running.pid}) exited; restarting`);
      restarting = restartUntilUp();
    });
  };

  const restartUntilUp = async (): Promise<void> => {
    for (let attempt = 0; !stopping; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)]));
      if (stopping) return;
      try {
        const restarted = await start();
        if (stopping) {
          await restarted.stop();
          return;
        }
        server = restarted;
        supervise(restarted);
        options.say(`embedded PostgreSQL restarted (pid ${restarted.pid})`);
        return;
      } catch (error) {
        options.say(`embedded PostgreSQL failed to restart (${String(error)}); trying again`);
      }
    }
  };

  supervise(server);
  return {
    url: server.url,
    embedded: true,
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
