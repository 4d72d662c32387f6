import { createDatabase, createTestDatabase, migrateToLatest, type Database } from '@partq/schema';
import type { Kysely } from 'kysely';

/**
 * A fresh, migrated database for the test file that calls this at its top level (created in
 * beforeAll, dropped in afterAll). Read `.db` inside tests.
 */
export function useMigratedDatabase(): { readonly db: Kysely<Database>; readonly url: string } {
  let database: { url: string; drop(): Promise<void> } | undefined;
  let db: Kysely<Database> | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.url);
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
    get url() {
      if (!database) throw new Error('the test database is created in beforeAll');
      return database.url;
    },
  };
}
