import { createPool, createTestDatabase, databaseOn, migrateToLatest, type Database } from '@partq/schema';
import type { Kysely } from 'kysely';
import type pg from 'pg';

/**
 * A fresh, migrated database for the test file that calls this at its top level (created in
 * beforeAll, dropped in afterAll). Read `.db` (and `.pool`, the pool under it) inside tests.
 */
export function useMigratedDatabase(): { readonly db: Kysely<Database>; readonly pool: pg.Pool; readonly url: string } {
  let database: { url: string; drop(): Promise<void> } | undefined;
  let db: Kysely<Database> | undefined;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPool(database.url);
    db = databaseOn(pool);
    await migrateToLatest(db);
  }, 60_000);
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('the test database is created in beforeAll');
      return db;
    },
    get pool() {
      if (!pool) throw new Error('the test database is created in beforeAll');
      return pool;
    },
    get url() {
      if (!database) throw new Error('the test database is created in beforeAll');
      return database.url;
    },
  };
}
