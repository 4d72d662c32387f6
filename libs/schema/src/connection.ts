import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';
import { silentLogger, type Logger } from './logger.js';
import { centralDbTypes } from './pg-types.js';

export interface DatabaseOptions {
  /** Pool size; pg's default (10) when omitted. */
  max?: number;
  /** Shown in pg_stat_activity, so an operator can tell the roles' connections apart. */
  applicationName?: string;
  /** Receives errors of pooled connections (e.g. the server restarted). */
  logger?: Logger;
}

/**
 * A pg pool on the Central DB: bigint columns read as numbers, bytea as Buffers. For the few
 * statements Kysely cannot send (COPY); everything else goes through `databaseOn(pool)`.
 */
export function createPool(url: string, options: DatabaseOptions = {}): pg.Pool {
  const logger = options.logger ?? silentLogger;
  const pool = new pg.Pool({
    connectionString: url,
    types: centralDbTypes,
    ...(options.max === undefined ? {} : { max: options.max }),
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName }),
  });
  // A client that loses its server (PostgreSQL restarted, the connection cut) emits 'error', and
  // unheard that crashes the process. pg-pool listens only while a client is idle, so each client
  // gets a listener of its own for the time it is checked out too. A statement in flight fails
  // with the same error; pg-pool drops the broken client, and the next query gets a fresh one.
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.warn(`PostgreSQL connection failed: ${error.message}`));
  });
  // The pool repeats an idle client's error, which the client's own listener has reported.
  pool.on('error', () => undefined);
  return pool;
}

/** A Kysely handle on a pool from `createPool`. `db.destroy()` ends the pool. */
export function databaseOn(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * A Kysely handle on the Central DB. bigint columns read as numbers, bytea as Buffers.
 * Close it with `db.destroy()`.
 */
export function createDatabase(url: string, options: DatabaseOptions = {}): Kysely<Database> {
  return databaseOn(createPool(url, options));
}
