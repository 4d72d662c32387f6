import { sql, type Kysely, type Migration } from 'kysely';

// Migrations take Kysely<any>: they must keep describing the schema as it was when written,
// whatever database.ts says later.

/** Topics, brokers, and the partition map that ties them together. */
export const metadataMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('topics')
      .addColumn('id', 'integer', (col) => col.generatedAlwaysAsIdentity().primaryKey())
      .addColumn('name', 'text', (col) => col.notNull().unique())
      .addColumn('partition_count', 'integer', (col) => col.notNull())
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn('retention_ms', 'bigint')
      .addColumn('retention_bytes', 'bigint')
      .addColumn('default_acks', 'text', (col) => col.notNull().defaultTo('broker'))
      .addCheckConstraint('topics_name_valid', sql`name ~ '^[A-Za-z0-9._-]{1,249}$'`)
      .addCheckConstraint('topics_partition_count_positive', sql`partition_count > 0`)
      .addCheckConstraint('topics_retention_ms_positive', sql`retention_ms > 0`)
      .addCheckConstraint('topics_retention_bytes_positive', sql`retention_bytes > 0`)
      .addCheckConstraint('topics_default_acks_known', sql`default_acks in ('broker', 'all')`)
      .execute();

    await db.schema
      .createTable('brokers')
      .addColumn('id', 'integer', (col) => col.generatedAlwaysAsIdentity().primaryKey())
      .addColumn('address', 'text', (col) => col.notNull())
      .addColumn('state', 'text', (col) => col.notNull().defaultTo('alive'))
      .addColumn('registered_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn('last_heartbeat_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addCheckConstraint('brokers_state_known', sql`state in ('alive', 'dead', 'draining')`)
      .execute();

    await db.schema
      .createTable('partitions')
      .addColumn('topic_id', 'integer', (col) => col.notNull().references('topics.id').onDelete('cascade'))
      .addColumn('partition_id', 'integer', (col) => col.notNull())
      .addColumn('broker_id', 'integer', (col) => col.references('brokers.id').onDelete('set null'))
      .addColumn('epoch', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('log_start_offset', 'bigint', (col) => col.notNull().defaultTo(0))
      .addColumn('high_watermark', 'bigint', (col) => col.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('partitions_pkey', ['topic_id', 'partition_id'])
      .addCheckConstraint('partitions_partition_id_nonnegative', sql`partition_id >= 0`)
      .addCheckConstraint('partitions_epoch_nonnegative', sql`epoch >= 0`)
      // Retention may only delete what is committed: 0 <= log start <= high watermark.
      .addCheckConstraint(
        'partitions_offsets_ordered',
        sql`log_start_offset >= 0 and log_start_offset <= high_watermark`,
      )
      .execute();

    // Reassigning a dead broker's partitions looks them up by broker.
    await db.schema.createIndex('partitions_broker_id_idx').on('partitions').column('broker_id').execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('partitions').execute();
    await db.schema.dropTable('brokers').execute();
    await db.schema.dropTable('topics').execute();
  },
};
