import { PreparedStatement, type PartitionRow, type StatementTarget } from '@partq/schema';
import { LOCKED_BATCH, lockedBatchParams, type LockedBatchParams } from './locked-batch.js';
import { batchRows, type PartitionBatch } from './partition-batch.js';

/**
 * A small sync in one statement, committed on its own (no BEGIN, no COPY, no COMMIT: one round
 * trip where the transaction took five). For each batch that continues exactly from its
 * partition's high watermark under the batch's epoch: locks the partition row, moves the high
 * watermark past the batch and `stored_bytes` by its records, and inserts its rows, all or nothing.
 * A batch fenced since, with a gap, or overlapping what was committed is left alone and out of the
 * answer (MessageStore.commit's transaction handles it). Row locks in key order, as the claim's.
 * Each column is one array parameter: the text stays the same, and prepared, whatever the counts.
 */
const CONTINUE_HIGH_WATERMARKS = new PreparedStatement<
  PartitionRow,
  [
    ...LockedBatchParams,
    rowTopicIds: number[],
    rowPartitionIds: number[],
    baseOffsets: number[],
    nextOffsets: number[],
    records: Uint8Array[],
    sequences: Uint8Array[],
    lastTimestampsMs: number[],
  ]
>(
  'partq_manager_continue_high_watermarks',
  `${LOCKED_BATCH}, moved AS (
     UPDATE partitions p SET high_watermark = b.last_offset + 1, stored_bytes = p.stored_bytes + b.bytes
     FROM batch b JOIN locked l ON l.topic_id = b.topic_id AND l.partition_id = b.partition_id
     WHERE p.topic_id = b.topic_id AND p.partition_id = b.partition_id AND l.high_watermark = b.from_offset
     RETURNING p.*
   ), inserted AS (
     INSERT INTO record_batches (topic_id, partition_id, base_offset, next_offset, records, sequences, last_timestamp_ms)
     SELECT r.topic_id, r.partition_id, r.base_offset, r.next_offset, r.records, r.sequences, r.last_timestamp_ms
     FROM unnest($7::int4[], $8::int4[], $9::int8[], $10::int8[], $11::bytea[], $12::bytea[], $13::int8[])
       AS r(topic_id, partition_id, base_offset, next_offset, records, sequences, last_timestamp_ms)
     JOIN moved m ON m.topic_id = r.topic_id AND m.partition_id = r.partition_id
   )
   SELECT * FROM moved`,
);

/**
 * Commits each batch that continues its partition's high watermark (see CONTINUE_HIGH_WATERMARKS);
 * answers the partitions it moved, in no particular order. One batch per partition.
 */
export async function continueHighWatermarks(target: StatementTarget, batches: readonly PartitionBatch[]): Promise<PartitionRow[]> {
  const rowTopicIds: number[] = [];
  const rowPartitionIds: number[] = [];
  const baseOffsets: number[] = [];
  const nextOffsets: number[] = [];
  const records: Uint8Array[] = [];
  const sequences: Uint8Array[] = [];
  const lastTimestampsMs: number[] = [];
  for (const batch of batches) {
    for (const row of batchRows(batch, batch.from)) {
      rowTopicIds.push(batch.topicId);
      rowPartitionIds.push(batch.partitionId);
      baseOffsets.push(row.baseOffset);
      nextOffsets.push(row.nextOffset);
      records.push(row.records);
      sequences.push(row.sequences);
      lastTimestampsMs.push(row.lastTimestampMs);
    }
  }
  const rows = [rowTopicIds, rowPartitionIds, baseOffsets, nextOffsets, records, sequences, lastTimestampsMs] as const;
  return (await CONTINUE_HIGH_WATERMARKS.run(target, [...lockedBatchParams(batches), ...rows])).rows;
}
