import type { RecordFields } from './record-codec.js';
import { EMPTY_BYTES, bytesFieldSize, expectWireType, sequenceNumber, tag, varintFieldSize, varintSize, WIRE_LEN, WIRE_VARINT, WireReader, writeBytesField, writeVarint, writeVarintField } from './wire.js';

/**
 * An AppendRecordBatch (AppendRequest.records_data) by hand: the gateway writes the records it
 * routes to one partition without building an AppendRecord object per message, and the broker
 * reads them as views into the request. The bytes equal toBinary(AppendRecordBatchSchema, ...).
 */

/** A record read out of a batch; payload and key are views into the batch. */
export interface AppendBatchRecord extends RecordFields {
  key: Uint8Array | undefined;
  sequence: number | undefined;
  previousSequence: number | undefined;
}

const TAG_RECORD = tag(1, WIRE_LEN);
const TAG_PAYLOAD = tag(1, WIRE_LEN);
const TAG_KEY = tag(2, WIRE_LEN);
const TAG_PRODUCER_ID = tag(3, WIRE_VARINT);
const TAG_SEQUENCE = tag(4, WIRE_VARINT);
const TAG_PREVIOUS_SEQUENCE = tag(5, WIRE_VARINT);
const FIELD_PAYLOAD = 1;
const FIELD_KEY = 2;
const FIELD_PRODUCER_ID = 3;
const FIELD_SEQUENCE = 4;
const FIELD_PREVIOUS_SEQUENCE = 5;

function bodySize(record: RecordFields, sequence: number | undefined, previous: number | undefined): number {
  let size = 0;
  if (record.payload.byteLength > 0) size += bytesFieldSize(record.payload.byteLength);
  if (record.key !== undefined) size += bytesFieldSize(record.key.byteLength);
  if (record.producerId !== 0) size += varintFieldSize(record.producerId);
  if (sequence !== undefined) size += varintFieldSize(sequence);
  if (previous !== undefined) size += varintFieldSize(previous);
  return size;
}

/** Encodes records (sequences must be non-negative safe integers) as an AppendRecordBatch. */
export function encodeAppendRecordBatch(records: readonly RecordFields[]): Uint8Array {
  const layout = layoutAppendRecordBatch(records);
  const buffer = Buffer.allocUnsafe(layout.total);
  writeAppendRecordBatch(buffer, 0, records, layout);
  return buffer;
}

/** An AppendRecordBatch measured before it is written: each record's body size and sequences, and the whole. */
export interface AppendRecordBatchLayout {
  sizes: number[];
  sequences: (number | undefined)[];
  /** Only when a record has one (most appends have none). */
  previousSequences: (number | undefined)[] | undefined;
  total: number;
}

export function layoutAppendRecordBatch(records: readonly RecordFields[]): AppendRecordBatchLayout {
  const sizes = new Array<number>(records.length);
  const sequences = new Array<number | undefined>(records.length);
  let previousSequences: (number | undefined)[] | undefined;
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const sequence = sequenceNumber(record.sequence);
    let previous: number | undefined;
    if (record.previousSequence !== undefined) {
      previous = sequenceNumber(record.previousSequence);
      (previousSequences ??= new Array<number | undefined>(records.length))[i] = previous;
    }
    const size = bodySize(record, sequence, previous);
    sequences[i] = sequence;
    sizes[i] = size;
    total += 1 + varintSize(size) + size;
  }
  return { sizes, sequences, previousSequences, total };
}

/** Writes the batch laid out by `layout` at `at`; returns the next position. */
export function writeAppendRecordBatch(buffer: Uint8Array, at: number, records: readonly RecordFields[], layout: AppendRecordBatchLayout): number {
  const { sizes, sequences, previousSequences } = layout;
  const end = at + layout.total;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    buffer[at++] = TAG_RECORD;
    at = writeVarint(buffer, at, sizes[i]!);
    if (record.payload.byteLength > 0) at = writeBytesField(buffer, at, TAG_PAYLOAD, record.payload);
    if (record.key !== undefined) at = writeBytesField(buffer, at, TAG_KEY, record.key);
    if (record.producerId !== 0) at = writeVarintField(buffer, at, TAG_PRODUCER_ID, record.producerId);
    const sequence = sequences[i];
    if (sequence !== undefined) at = writeVarintField(buffer, at, TAG_SEQUENCE, sequence);
    const previous = previousSequences?.[i];
    if (previous !== undefined) at = writeVarintField(buffer, at, TAG_PREVIOUS_SEQUENCE, previous);
  }
  if (at !== end) throw new Error(`append record codec: wrote ${at - end + layout.total} bytes, sized ${layout.total}`);
  return at;
}

/**
 * Reads every record of an AppendRecordBatch. Unknown fields are skipped; anything malformed, or a
 * sequence that is negative or beyond 2^53, throws WireFormatError.
 */
export function decodeAppendRecordBatch(data: Uint8Array): AppendBatchRecord[] {
  const records: AppendBatchRecord[] = [];
  const outer = new WireReader(data);
  while (!outer.done) {
    const fieldTag = outer.tag();
    if (fieldTag !== TAG_RECORD) {
      outer.skip(fieldTag & 7);
      continue;
    }
    const start = outer.lengthDelimited();
    records.push(readRecord(new WireReader(data, start, outer.pos)));
  }
  return records;
}

function readRecord(reader: WireReader): AppendBatchRecord {
  const record: AppendBatchRecord = { payload: EMPTY_BYTES, key: undefined, producerId: 0, sequence: undefined, previousSequence: undefined };
  while (!reader.done) {
    const fieldTag = reader.tag();
    switch (fieldTag >>> 3) {
      case FIELD_PAYLOAD:
        expectWireType(fieldTag, WIRE_LEN, 'AppendRecord.payload');
        record.payload = reader.bytesView();
        break;
      case FIELD_KEY:
        expectWireType(fieldTag, WIRE_LEN, 'AppendRecord.key');
        record.key = reader.bytesView();
        break;
      case FIELD_PRODUCER_ID:
        expectWireType(fieldTag, WIRE_VARINT, 'AppendRecord.producer_id');
        record.producerId = reader.int32();
        break;
      case FIELD_SEQUENCE:
        expectWireType(fieldTag, WIRE_VARINT, 'AppendRecord.sequence');
        record.sequence = reader.uint();
        break;
      case FIELD_PREVIOUS_SEQUENCE:
        expectWireType(fieldTag, WIRE_VARINT, 'AppendRecord.previous_sequence');
        record.previousSequence = reader.uint();
        break;
      default:
        reader.skip(fieldTag & 7);
    }
  }
  return record;
}
