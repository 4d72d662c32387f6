import { sql, type Kysely, type Migration } from 'kysely';

/**
 * What a topic's time and size limits (`retention_ms`, `retention_bytes`) are judged on, kept as
 * rows are written so that applying a limit reads only the rows it deletes:
 * - `record_batches.last_timestamp_ms`: the newest append time of the row's records. Rows already
 *   stored get the time of this migration (their records' times are inside the bytes), so a limit
 *   counts them from the upgrade: they stay longer, never shorter, than asked.
 * - `partitions.stored_bytes`: the bytes of the partition's rows' records, counted here once for
 *   the rows already stored.
 */
export const retentionLimitsMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    // A stable default is stored once in the catalogue, not written into every existing row.
    await sql`ALTER TABLE record_batches ADD COLUMN last_timestamp_ms bigint NOT NULL DEFAULT (extract(epoch from now()) * 1000)::bigint`.execute(db);
    // Writers name the time from here on.
    await sql`ALTER TABLE record_batches ALTER COLUMN last_timestamp_ms DROP DEFAULT`.execute(db);
    await db.schema.alterTable('partitions').addColumn('stored_bytes', 'bigint', (col) => col.notNull().defaultTo(0)).execute();
    await sql`
      UPDATE partitions p SET stored_bytes = s.bytes
      FROM (SELECT topic_id, partition_id, sum(octet_length(records)) AS bytes FROM record_batches GROUP BY topic_id, partition_id) s
      WHERE p.topic_id = s.topic_id AND p.partition_id = s.partition_id
    `.execute(db);
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('partitions').dropColumn('stored_bytes').execute();
    await db.schema.alterTable('record_batches').dropColumn('last_timestamp_ms').execute();
  },
};
