import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded.js';
import { startSupervisedPostgres } from './supervised-postgres.js';
import type { Logger } from './logger.js';
import { sharedTestServerUrl } from './test-server.js';

export interface ResolveDatabaseOptions {
  /** A PostgreSQL 14+ URL (usually process.env.DATABASE_URL); when empty, PostgreSQL is embedded. */
  databaseUrl?: string;
  /** Data directory of the embedded server. */
  dataDir: string;
  /** Port of the embedded server. */
  port: number;
  logger?: Logger;
  /**
   * Start the embedded server again whenever it dies, telling `onRestart` (the local cluster
   * launcher does, as for its role processes). Default: not supervised.
   */
  onRestart?: (message: string) => void;
  /** The embedded server runs in a process group of its own (see EmbeddedPostgresOptions). */
  ownProcessGroup?: boolean;
}

export interface ResolvedDatabase {
  url: string;
  /** Whether this process started the server (and stop() shuts it down). */
  embedded: boolean;
  /** The embedded server's postmaster now (undefined for a URL, or while it is being started again). */
  readonly pid: number | undefined;
  /** Stops the embedded server; nothing to do for a server given by URL. */
  stop(): Promise<void>;
}

/** The Central DB to use: the given URL, or else a PostgreSQL embedded in this process. */
export async function resolveDatabaseUrl(options: ResolveDatabaseOptions): Promise<ResolvedDatabase> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    return { url: options.databaseUrl, embedded: false, pid: undefined, stop: async () => undefined };
  }
  const serverOptions = {
    dataDir: options.dataDir,
    port: options.port,
    ownProcessGroup: options.ownProcessGroup ?? false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  if (options.onRestart) {
    const supervised = await startSupervisedPostgres(serverOptions, options.onRestart);
    return {
      url: supervised.url,
      embedded: true,
      get pid() {
        return supervised.pid;
      },
      stop: () => supervised.stop(),
    };
  }
  const server = await startEmbeddedPostgres(serverOptions);
  return { url: server.url, embedded: true, pid: server.pid, stop: () => server.stop() };
}

export interface TestDatabase {
  /** URL of a new, empty database no other test uses. */
  url: string;
  /** Drops the database, closing connections still open to it. */
  drop(): Promise<void>;
}

/**
 * A fresh, uniquely named database for one test: on the server of env DATABASE_URL when set,
 * otherwise on a throwaway embedded PostgreSQL shared by this test process.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const fromEnv = process.env['DATABASE_URL'];
  const serverUrl = fromEnv !== undefined && fromEnv !== '' ? fromEnv : await sharedTestServerUrl();
  const name = `partq_t_${randomBytes(8).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`create database ${client.escapeIdentifier(name)}`));

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    url: url.toString(),
    drop() {
      dropping ??= withClient(serverUrl, async (client) => {
        await client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`);
      });
      return dropping;
    },
  };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
