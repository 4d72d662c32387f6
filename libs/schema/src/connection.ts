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
  /** Receives errors of idle pooled connections (e.g. the server restarted). */
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
  // An idle client that loses its server emits 'error' on the pool; unheard, that would crash the
  // process. The next query simply gets a fresh connection.
  pool.on('error', (error) => logger.warn(`idle PostgreSQL connection failed: ${error.message}`));
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
