import { sql, type Kysely, type Migration } from 'kysely';

/** Last sign of life of every broker, producer and consumer, kept by the manager. */
export const healthChecksMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('health_checks')
      .addColumn('kind', 'text', (col) => col.notNull())
      .addColumn('entity_id', 'integer', (col) => col.notNull())
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('last_seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn('detail', 'jsonb')
      .addPrimaryKeyConstraint('health_checks_pkey', ['kind', 'entity_id'])
      .addCheckConstraint('health_checks_kind_known', sql`kind in ('broker', 'producer', 'consumer')`)
      .execute();

    // Expiry sweeps look for the entities of one kind not seen since a deadline.
    await db.schema
      .createIndex('health_checks_kind_last_seen_idx')
      .on('health_checks')
      .columns(['kind', 'last_seen_at'])
      .execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('health_checks').execute();
  },
};
