import type { Database, PartitionRow } from '@partq/schema';
import { sql, type Kysely } from 'kysely';

/** A partition whose log start moved: its rows wholly below the start can go. */
export type MovedStart = Pick<PartitionRow, 'topic_id' | 'partition_id' | 'log_start_offset'>;

/**
 * Deletes the record rows wholly below each partition's log start, in one statement, and takes
 * their bytes off the partition's `stored_bytes`. A row across the start stays whole (its records
 * below the start are no longer read: readers start at log_start_offset). Answers the partitions
 * as they are now, and how many records went.
 */
export async function deleteBelowStart(db: Kysely<Database>, moved: readonly MovedStart[]): Promise<{ partitions: PartitionRow[]; deleted: number }> {
  if (moved.length === 0) return { partitions: [], deleted: 0 };
  const { rows } = await sql<PartitionRow & { deleted_records: number }>`
    WITH start AS (
      SELECT * FROM unnest(${moved.map((p) => p.topic_id)}::int4[], ${moved.map((p) => p.partition_id)}::int4[], ${moved.map((p) => p.log_start_offset)}::int8[])
        AS s(topic_id, partition_id, log_start_offset)
    ), gone AS (
      DELETE FROM record_batches r USING start s
      -- base_offset bounds the primary key's range scan; next_offset keeps a row across the start.
      WHERE r.topic_id = s.topic_id AND r.partition_id = s.partition_id
        AND r.base_offset < s.log_start_offset AND r.next_offset <= s.log_start_offset
      RETURNING r.topic_id, r.partition_id, r.next_offset - r.base_offset AS records, octet_length(r.records) AS bytes
    ), freed AS (
      SELECT s.topic_id, s.partition_id, coalesce(sum(g.records), 0) AS records, coalesce(sum(g.bytes), 0) AS bytes
      FROM start s LEFT JOIN gone g ON g.topic_id = s.topic_id AND g.partition_id = s.partition_id
      GROUP BY s.topic_id, s.partition_id
    )
    UPDATE partitions p SET stored_bytes = p.stored_bytes - f.bytes
    FROM freed f
    WHERE p.topic_id = f.topic_id AND p.partition_id = f.partition_id
    RETURNING p.*, f.records::int8 AS deleted_records
  `.execute(db);
  let deleted = 0;
  const partitions = rows.map(({ deleted_records, ...partition }) => {
    deleted += Number(deleted_records);
    return partition;
  });
  return { partitions, deleted };
}
