import { sql, type Kysely, type Migration } from 'kysely';

/** Registered producers and consumers, and where each consumer stands in each partition. */
export const clientsMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('producers')
      .addColumn('id', 'integer', (col) => col.generatedAlwaysAsIdentity().primaryKey())
      .addColumn('topic_id', 'integer', (col) => col.notNull().references('topics.id').onDelete('cascade'))
      .addColumn('partition_id', 'integer')
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn('last_activity_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      // Checked only when partition_id is set (MATCH SIMPLE): a single-partition producer needs that partition.
      .addForeignKeyConstraint(
        'producers_partition_fkey',
        ['topic_id', 'partition_id'],
        'partitions',
        ['topic_id', 'partition_id'],
        (fk) => fk.onDelete('cascade'),
      )
      .execute();
    await db.schema.createIndex('producers_topic_id_idx').on('producers').column('topic_id').execute();

    await db.schema
      .createTable('consumers')
      .addColumn('id', 'integer', (col) => col.generatedAlwaysAsIdentity().primaryKey())
      .addColumn('topic_id', 'integer', (col) => col.notNull().references('topics.id').onDelete('cascade'))
      .addColumn('partition_id', 'integer')
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn('last_activity_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addForeignKeyConstraint(
        'consumers_partition_fkey',
        ['topic_id', 'partition_id'],
        'partitions',
        ['topic_id', 'partition_id'],
        (fk) => fk.onDelete('cascade'),
      )
      .execute();
    await db.schema.createIndex('consumers_topic_id_idx').on('consumers').column('topic_id').execute();

    await db.schema
      .createTable('consumer_positions')
      .addColumn('consumer_id', 'integer', (col) => col.notNull().references('consumers.id').onDelete('cascade'))
      .addColumn('partition_id', 'integer', (col) => col.notNull())
      .addColumn('topic_id', 'integer', (col) => col.notNull())
      .addColumn('next_offset', 'bigint', (col) => col.notNull())
      .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('consumer_positions_pkey', ['consumer_id', 'partition_id'])
      .addForeignKeyConstraint(
        'consumer_positions_partition_fkey',
        ['topic_id', 'partition_id'],
        'partitions',
        ['topic_id', 'partition_id'],
        (fk) => fk.onDelete('cascade'),
      )
      .addCheckConstraint('consumer_positions_next_offset_nonnegative', sql`next_offset >= 0`)
      .execute();
    // Consumption-based retention asks for the lowest position in a partition.
    await db.schema
      .createIndex('consumer_positions_partition_offset_idx')
      .on('consumer_positions')
      .columns(['topic_id', 'partition_id', 'next_offset'])
      .execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('consumer_positions').execute();
    await db.schema.dropTable('consumers').execute();
    await db.schema.dropTable('producers').execute();
  },
};
