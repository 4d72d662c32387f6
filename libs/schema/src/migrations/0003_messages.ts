import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Committed records. No foreign key to partitions: the manager bulk-inserts here on every sync,
 * and a per-row key check would tax the hottest write path for a rule the manager already keeps.
 * Producers may be expired while their messages are retained, so producer_id is not a key either.
 */
export const messagesMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('messages')
      .addColumn('topic_id', 'integer', (col) => col.notNull())
      .addColumn('partition_id', 'integer', (col) => col.notNull())
      .addColumn('offset', 'bigint', (col) => col.notNull())
      .addColumn('payload', 'bytea', (col) => col.notNull())
      .addColumn('key', 'bytea')
      .addColumn('producer_id', 'integer')
      .addColumn('sequence', 'bigint')
      .addColumn('appended_at', 'timestamptz', (col) => col.notNull())
      .addPrimaryKeyConstraint('messages_pkey', ['topic_id', 'partition_id', 'offset'])
      .addCheckConstraint('messages_offset_nonnegative', sql`"offset" >= 0`)
      .addCheckConstraint('messages_sequence_has_producer', sql`sequence is null or producer_id is not null`)
      .execute();

    // Idempotence: the last sequence a producer landed in a partition, e.g. after a broker lost its disk.
    await db.schema
      .createIndex('messages_producer_sequence_idx')
      .on('messages')
      .columns(['producer_id', 'topic_id', 'partition_id', 'sequence'])
      .where(sql.ref('sequence'), 'is not', null)
      .execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('messages').execute();
  },
};
