import { create } from '@bufbuild/protobuf';
import { AppendRequestSchema, type AppendRequest } from '../gen/partq/v1/broker_pb.js';
import type { Acks } from '../gen/partq/v1/types_pb.js';
import { layoutAppendRecordBatch, writeAppendRecordBatch } from './append-record-batch-codec.js';
import type { RecordFields } from './record-codec.js';
import { tag, varintFieldSize, varintSize, WIRE_LEN, WIRE_VARINT, writeVarint, writeVarintField } from './wire.js';

/** Where an Append goes: everything of an AppendRequest but its records. */
export interface AppendTarget {
  topicId: number;
  partitionId: number;
  epoch: number;
  acks: Acks;
}

const TAG_TOPIC_ID = tag(1, WIRE_VARINT);
const TAG_PARTITION_ID = tag(2, WIRE_VARINT);
const TAG_EPOCH = tag(3, WIRE_VARINT);
const TAG_ACKS = tag(4, WIRE_VARINT);
const TAG_RECORDS_DATA = tag(6, WIRE_LEN);

/**
 * An AppendRequest written by hand into one buffer (the records copied once, as records_data), and
 * the same request as a message whose records_data is a view into that buffer. Why: encoding the
 * batch and then the request with protobuf-es copied every payload twice in the gateway, the second
 * time into a zero-filled buffer. The bytes equal toBinary(AppendRequestSchema, ...) of the message.
 * Ids and acks must not be negative (they never are); sequences as for encodeAppendRecordBatch.
 */
export function encodeAppendRequest(target: AppendTarget, records: readonly RecordFields[]): { bytes: Uint8Array; request: AppendRequest } {
  const fields = [
    [TAG_TOPIC_ID, target.topicId],
    [TAG_PARTITION_ID, target.partitionId],
    [TAG_EPOCH, target.epoch],
    [TAG_ACKS, target.acks],
  ] as const;
  for (const [, value] of fields) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`append request: ${value} is not a non-negative integer`);
  }
  const layout = layoutAppendRecordBatch(records);
  let total = 0;
  for (const [, value] of fields) if (value !== 0) total += varintFieldSize(value);
  if (layout.total > 0) total += 1 + varintSize(layout.total) + layout.total;

  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  for (const [fieldTag, value] of fields) if (value !== 0) at = writeVarintField(bytes, at, fieldTag, value);
  let dataStart = at;
  if (layout.total > 0) {
    bytes[at++] = TAG_RECORDS_DATA;
    at = writeVarint(bytes, at, layout.total);
    dataStart = at;
    at = writeAppendRecordBatch(bytes, at, records, layout);
  }
  const request = create(AppendRequestSchema, { ...target, recordsData: bytes.subarray(dataStart, at) });
  return { bytes, request };
}
