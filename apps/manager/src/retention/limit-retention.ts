import type { Database, PartitionRow } from '@partq/schema';
import { sql, type Kysely } from 'kysely';
import { IDEMPOTENCE_WINDOW_RECORDS } from './consumption-retention.js';
import { deleteBelowStart, type MovedStart } from './delete-below-start.js';

/**
 * A topic's time and size limits (`retention_ms`, `retention_bytes`), applied whether or not
 * consumers read the records, as Kafka applies `retention.ms` and `retention.bytes`: a consumer
 * further behind than that finds its next records gone and goes on from the log start.
 * - Time: rows go from the oldest on while their newest record was appended before `now` minus
 *   the limit; the first younger row stops it (records are appended in time order).
 * - Size: the oldest rows go until the partition's `stored_bytes` is at most the limit.
 * Whole rows go (~8 KB of records each), and the last `keepLast` records of a partition stay
 * whatever the limits: a broker taking a partition over learns the producers' committed sequences
 * from them (as Kafka never deletes its active segment). Only committed records are deleted.
 * Each judgement reads just the rows it deletes and the one after: the primary key's range.
 * The retention task judges (judgeLimits) before taking the metadata lock and moves the starts
 * (moveLimitedStarts) under it.
 */

/** A partition of a topic with a time or size limit, as the limits judge it. */
interface LimitedPartition {
  topic_id: number;
  partition_id: number;
  log_start_offset: number;
  high_watermark: number;
  stored_bytes: number;
  retention_ms: number | null;
  retention_bytes: number | null;
}

/** Where a partition's log start should move under its topic's limits, and the limits judged on. */
export interface LimitedStart extends MovedStart {
  retention_ms: number | null;
  retention_bytes: number | null;
}

/**
 * Judges where each limited partition should start. Reads only, without locks (the manager's or
 * PostgreSQL's): high watermarks and stored bytes only grow meanwhile, so a start judged on them
 * keeps at least what the limits ask, and syncs never wait behind these reads.
 */
export async function judgeLimits(db: Kysely<Database>, options: { now?: number; keepLast?: number } = {}): Promise<LimitedStart[]> {
  const now = options.now ?? Date.now();
  const keepLast = options.keepLast ?? IDEMPOTENCE_WINDOW_RECORDS;
  const { rows: limited } = await sql<LimitedPartition>`
    SELECT p.topic_id, p.partition_id, p.log_start_offset, p.high_watermark, p.stored_bytes, t.retention_ms, t.retention_bytes
    FROM partitions p JOIN topics t ON t.id = p.topic_id
    WHERE (t.retention_ms IS NOT NULL OR t.retention_bytes IS NOT NULL) AND p.high_watermark - ${keepLast} > p.log_start_offset
  `.execute(db);
  const starts: LimitedStart[] = [];
  for (const partition of limited) {
    const wanted = Math.max(await timeLimitStart(db, partition, now), await sizeLimitStart(db, partition));
    const start = Math.min(wanted, partition.high_watermark - keepLast);
    if (start <= partition.log_start_offset) continue;
    const { topic_id, partition_id, retention_ms, retention_bytes } = partition;
    starts.push({ topic_id, partition_id, log_start_offset: start, retention_ms, retention_bytes });
  }
  return starts;
}

/**
 * Moves the judged log starts and deletes the rows below them, in one transaction. A partition
 * whose topic's limits changed since they were judged is left for the next pass.
 */
export async function moveLimitedStarts(db: Kysely<Database>, starts: readonly LimitedStart[]): Promise<{ partitions: PartitionRow[]; deleted: number }> {
  if (starts.length === 0) return { partitions: [], deleted: 0 };
  return db.transaction().execute(async (tx) => {
    const { rows } = await sql<MovedStart>`
      UPDATE partitions p SET log_start_offset = m.log_start_offset
      FROM unnest(
        ${starts.map((m) => m.topic_id)}::int4[],
        ${starts.map((m) => m.partition_id)}::int4[],
        ${starts.map((m) => m.log_start_offset)}::int8[],
        ${starts.map((m) => m.retention_ms)}::int8[],
        ${starts.map((m) => m.retention_bytes)}::int8[]
      ) AS m(topic_id, partition_id, log_start_offset, retention_ms, retention_bytes), topics t
      WHERE p.topic_id = m.topic_id AND p.partition_id = m.partition_id AND p.log_start_offset < m.log_start_offset
        AND t.id = m.topic_id AND t.retention_ms IS NOT DISTINCT FROM m.retention_ms AND t.retention_bytes IS NOT DISTINCT FROM m.retention_bytes
      RETURNING p.topic_id, p.partition_id, p.log_start_offset
    `.execute(tx);
    return deleteBelowStart(tx, rows);
  });
}

/** Where the partition starts under its time limit: at its first row appended to since the cutoff (none: everything is older). */
async function timeLimitStart(db: Kysely<Database>, partition: LimitedPartition, now: number): Promise<number> {
  if (partition.retention_ms === null) return partition.log_start_offset;
  const row = await db
    .selectFrom('record_batches')
    .select('base_offset')
    .where('topic_id', '=', partition.topic_id)
    .where('partition_id', '=', partition.partition_id)
    .where('last_timestamp_ms', '>=', now - partition.retention_ms)
    .orderBy('base_offset')
    .limit(1)
    .executeTakeFirst();
  return row ? row.base_offset : partition.high_watermark;
}

/** Where the partition starts under its size limit: past the oldest rows whose bytes bring it to the limit. */
async function sizeLimitStart(db: Kysely<Database>, partition: LimitedPartition): Promise<number> {
  const excess = partition.retention_bytes === null ? 0 : partition.stored_bytes - partition.retention_bytes;
  if (excess <= 0) return partition.log_start_offset;
  // The running sum is read oldest first and stops at the first row that covers the excess.
  const { rows } = await sql<{ next_offset: number }>`
    SELECT next_offset FROM (
      SELECT base_offset, next_offset, sum(octet_length(records)) OVER (ORDER BY base_offset) AS freed
      FROM record_batches
      WHERE topic_id = ${partition.topic_id} AND partition_id = ${partition.partition_id}
    ) oldest
    WHERE freed >= ${excess}
    ORDER BY base_offset
    LIMIT 1
  `.execute(db);
  // No such row: stored_bytes counts more than the rows hold; the rows say what is there.
  return rows[0]?.next_offset ?? partition.log_start_offset;
}
