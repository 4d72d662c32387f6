import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Fences between the runs of one consume stream on different replicas. Each run of a stream (a
 * connect or reconnect of its client, or its Release) takes a number from `consumer_stream_runs`
 * and stamps it on every position of the consumer as `fence_stream` / `fence_run`; a stream's
 * advance is refused where a later run of the same stream stamped the row. Without it, a run whose
 * client had moved to another replica could still commit a delivery after the new run's rewind,
 * and that delivery was lost to the consumer.
 */
export const streamFencesMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('consumer_positions').addColumn('fence_stream', 'text').addColumn('fence_run', 'bigint').execute();
    await sql`CREATE SEQUENCE consumer_stream_runs`.execute(db);
  },
  async down(db: Kysely<any>): Promise<void> {
    await sql`DROP SEQUENCE consumer_stream_runs`.execute(db);
    await db.schema.alterTable('consumer_positions').dropColumn('fence_stream').dropColumn('fence_run').execute();
  },
};
