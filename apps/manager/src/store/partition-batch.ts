import { encodeSequenceRuns } from '@partq/partition';
import type { RecordBatchIndex } from '@partq/proto';
import { RECORD_BATCH_ROW_BYTES } from '@partq/schema';
import { sequenceRunsOf } from './sequence-runs.js';

/** A partition's new records in one sync, as its broker answered GetUpdates. */
export interface PartitionBatch {
  topicId: number;
  partitionId: number;
  /** The owner's epoch the records came from; a batch of a deposed owner is refused. */
  epoch: number;
  /** The high watermark the batch continues from (at or past its first record's offset). */
  from: number;
  /** The records as the broker stores them: a RecordBatch's bytes (GetUpdates' records_data). */
  data: Uint8Array;
  /** indexRecordBatch(data): at least one record. */
  index: RecordBatchIndex;
}

/** One `record_batches` row: consecutive records of a partition, [baseOffset, nextOffset). */
export interface BatchRow {
  baseOffset: number;
  nextOffset: number;
  /** A slice of the broker's bytes: a run of a RecordBatch is a RecordBatch itself. */
  records: Uint8Array;
  /** The row's producer sequences, as runs (a few per row). */
  sequences: Buffer;
  /** The newest append time of the row's records (a new owner's clock may run behind the last one's). */
  lastTimestampMs: number;
}

/** The offset of a batch's last record. */
export function lastOffsetOf(batch: PartitionBatch): number {
  const offsets = batch.index.offsets;
  return offsets[offsets.length - 1]!;
}

/** The bytes of the batch's records at offset `from` and past it (what batchRows makes rows of from there). */
export function bytesFrom(batch: PartitionBatch, from: number): number {
  const { offsets, starts, ends } = batch.index;
  const first = firstAtOrAfter(batch, from);
  return first < offsets.length ? ends[ends.length - 1]! - starts[first]! : 0;
}

/**
 * The batch's records from offset `from` on as rows of consecutive records, each at most
 * RECORD_BATCH_ROW_BYTES unless one record alone is larger. Nothing is decoded or re-encoded.
 */
export function* batchRows(batch: PartitionBatch, from: number): Generator<BatchRow, void, undefined> {
  const { offsets, starts, ends, timestamps } = batch.index;
  let first = firstAtOrAfter(batch, from);
  while (first < offsets.length) {
    let last = first;
    while (last + 1 < offsets.length && ends[last + 1]! - starts[first]! <= RECORD_BATCH_ROW_BYTES) last++;
    yield {
      baseOffset: offsets[first]!,
      nextOffset: offsets[last]! + 1,
      records: batch.data.subarray(starts[first], ends[last]),
      sequences: encodeSequenceRuns(sequenceRunsOf(batch.index, first, last)),
      lastTimestampMs: newestOf(timestamps, first, last),
    };
    first = last + 1;
  }
}

function firstAtOrAfter(batch: PartitionBatch, from: number): number {
  const { offsets } = batch.index;
  let first = 0;
  while (first < offsets.length && offsets[first]! < from) first++;
  return first;
}

function newestOf(values: readonly number[], first: number, last: number): number {
  let newest = values[first]!;
  for (let i = first + 1; i <= last; i++) if (values[i]! > newest) newest = values[i]!;
  return newest;
}
