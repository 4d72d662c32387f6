import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database.js';
import { SchemaError } from './errors.js';
import { migrations } from './migrations/index.js';

/** Serves the migrations compiled into this package, so it works from dist and under jest alike. */
class BundledMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...migrations };
  }
}

export interface MigrateOptions {
  /** Told the names of the migrations about to run, before they run (none: not called). */
  onPending?: (names: string[]) => void;
}

/**
 * Brings the database up to the newest schema; does nothing when it is already there. Answers
 * the names of the migrations this call applied.
 *
 * Safe to call from several processes at once: Kysely's PostgreSQL adapter (0.28) creates its
 * bookkeeping tables tolerating a concurrent creator, then takes a session advisory lock
 * (pg_advisory_lock, per database) and reads which migrations ran only after it holds the lock,
 * inside the same transaction that applies them. The late caller waits, then finds nothing to do.
 */
export async function migrateToLatest(db: Kysely<Database>, options: MigrateOptions = {}): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new BundledMigrationProvider() });
  if (options.onPending) {
    // Read before taking the lock: another process may apply some of them first (this call then
    // applies fewer, which its answer says).
    const pending = (await migrator.getMigrations()).filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
    if (pending.length > 0) options.onPending(pending);
  }
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
  const failed = results?.find((result) => result.status === 'Error')?.migrationName;
  const detail = error instanceof Error ? error.message : String(error);
  throw new SchemaError(
    'MIGRATION_FAILED',
    failed === undefined ? `migration failed: ${detail}` : `migration ${failed} failed: ${detail}`,
    { cause: error },
  );
}
