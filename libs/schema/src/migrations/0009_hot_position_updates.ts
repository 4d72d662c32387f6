import { sql, type Kysely, type Migration } from 'kysely';

/**
 * A replica commits a consumer's position before every delivery: one UPDATE of one row. The index
 * on (topic_id, partition_id, next_offset) made every one of them a full update (a new entry in
 * both indexes, dead ones left for vacuum), because it holds the column the update changes. No
 * query reads next_offset through it: retention groups all positions of a partition, which
 * (topic_id, partition_id) finds as well. Without it, and with room left on each page
 * (fillfactor 50), the update is HOT: the new row version stays on its page and no index changes.
 * Measured on PostgreSQL 17 with the replica's UPDATE: 172-185 -> 157-167 us of its CPU each, and
 * the table stayed one page over 4 000 updates instead of growing to fourteen.
 */
export const hotPositionUpdatesMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.dropIndex('consumer_positions_partition_offset_idx').ifExists().execute();
    await db.schema.createIndex('consumer_positions_partition_idx').on('consumer_positions').columns(['topic_id', 'partition_id']).execute();
    // Takes effect for pages written from now on; positions are few and rewritten all the time.
    await sql`ALTER TABLE consumer_positions SET (fillfactor = 50)`.execute(db);
  },
  async down(db: Kysely<any>): Promise<void> {
    await sql`ALTER TABLE consumer_positions RESET (fillfactor)`.execute(db);
    await db.schema.dropIndex('consumer_positions_partition_idx').ifExists().execute();
    await db.schema
      .createIndex('consumer_positions_partition_offset_idx')
      .on('consumer_positions')
      .columns(['topic_id', 'partition_id', 'next_offset'])
      .execute();
  },
};
