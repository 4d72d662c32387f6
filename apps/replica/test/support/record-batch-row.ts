import { create, toBinary } from '@bufbuild/protobuf';
import { RecordBatchSchema, RecordSchema } from '@partq/proto';
import type { NewRecordBatchRow } from '@partq/schema';

export interface CommittedRecordFields {
  payload: string;
  key?: string;
  timestampMs?: number;
}

/** A record_batches row of consecutive records from offset `from`, as the manager's sync writes it. */
export function recordBatchRow(topicId: number, partitionId: number, from: number, records: readonly CommittedRecordFields[]): NewRecordBatchRow {
  const now = Date.now();
  const batch = create(RecordBatchSchema, {
    records: records.map((record, i) =>
      create(RecordSchema, {
        offset: BigInt(from + i),
        payload: Buffer.from(record.payload),
        key: record.key === undefined ? undefined : Buffer.from(record.key),
        timestampMs: BigInt(record.timestampMs ?? now),
      }),
    ),
  });
  // Records without producer sequences: the replica never reads them.
  return {
    topic_id: topicId,
    partition_id: partitionId,
    base_offset: from,
    next_offset: from + records.length,
    records: toBinary(RecordBatchSchema, batch),
    sequences: Buffer.alloc(0),
    last_timestamp_ms: Math.max(...records.map((record) => record.timestampMs ?? now)),
  };
}
