import type { Kysely, Migration } from 'kysely';

/**
 * Which consume stream last moved each position, and where that stream's deliveries on the
 * partition began. A stream whose deliveries were lost (its gateway or replica died mid-stream) or
 * never handed out (its client stopped reading) gives them back by rewinding to an offset no lower
 * than `stream_from`, and only while no one else moved the position since.
 */
export const consumerStreamsMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .alterTable('consumer_positions')
      .addColumn('stream_id', 'text')
      .addColumn('stream_from', 'bigint')
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('consumer_positions').dropColumn('stream_id').dropColumn('stream_from').execute();
  },
};
