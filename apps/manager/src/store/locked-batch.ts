import { bytesFrom, lastOffsetOf, type PartitionBatch } from './partition-batch.js';

/**
 * The CTEs both ways of committing a sync begin with: `batch`, the sync's partitions from six array
 * parameters (lockedBatchParams, $1–$6), and `locked`, their partition rows under the batch's epoch,
 * locked in key order so that two transactions touching the same partitions never wait on each
 * other crosswise. A statement goes on with `, name AS (…)` or its main `UPDATE`.
 */
export const LOCKED_BATCH = `WITH batch AS (
     SELECT * FROM unnest($1::int4[], $2::int4[], $3::int4[], $4::int8[], $5::int8[], $6::int8[])
       AS b(topic_id, partition_id, epoch, from_offset, last_offset, bytes)
   ), locked AS MATERIALIZED (
     SELECT p.topic_id, p.partition_id, p.high_watermark
     FROM partitions p JOIN batch b ON b.topic_id = p.topic_id AND b.partition_id = p.partition_id AND b.epoch = p.epoch
     ORDER BY p.topic_id, p.partition_id
     FOR UPDATE OF p
   )`;

export type LockedBatchParams = [topicIds: number[], partitionIds: number[], epochs: number[], from: number[], lastOffsets: number[], bytes: number[]];

/** $1–$6 of LOCKED_BATCH: each column one array, so a statement's text is the same whatever the count. `bytes`: the records from `from` on. */
export function lockedBatchParams(batches: readonly PartitionBatch[]): LockedBatchParams {
  return [
    batches.map((b) => b.topicId),
    batches.map((b) => b.partitionId),
    batches.map((b) => b.epoch),
    batches.map((b) => b.from),
    batches.map(lastOffsetOf),
    batches.map((b) => bytesFrom(b, b.from)),
  ];
}
