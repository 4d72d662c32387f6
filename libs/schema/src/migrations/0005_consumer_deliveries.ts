import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The last delivery of each consumer, written in the same statement that moves its position.
 * A consume retried with the same request id (the answer was lost when a gateway or replica
 * died) is answered with the same messages instead of the next ones: nothing is skipped.
 */
export const consumerDeliveriesMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('consumer_deliveries')
      .addColumn('consumer_id', 'integer', (col) => col.primaryKey().references('consumers.id').onDelete('cascade'))
      .addColumn('request_id', 'text', (col) => col.notNull())
      .addColumn('partition_id', 'integer', (col) => col.notNull())
      .addColumn('from_offset', 'bigint', (col) => col.notNull())
      .addColumn('to_offset', 'bigint', (col) => col.notNull())
      .addColumn('delivered_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addCheckConstraint('consumer_deliveries_range', sql`from_offset <= to_offset`)
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('consumer_deliveries').execute();
  },
};
