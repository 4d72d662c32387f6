import { EMPTY_BYTES, bytesFieldSize, expectWireType, tag, WIRE_LEN, WIRE_VARINT, WireReader, writeBytesField } from './wire.js';

/**
 * A RecordBatch (GetUpdates' PartitionRecords.records_data) by hand: the broker frames the WAL's
 * stored record bytes as they are, without decoding them, and the manager reads the fields it
 * stores straight out of the one buffer. The bytes equal toBinary(RecordBatchSchema, ...) of the
 * same records.
 */

/** A record read out of a batch, numbers as numbers; payload and key are views into the batch. */
export interface BatchRecord {
  offset: number;
  payload: Uint8Array;
  key: Uint8Array | undefined;
  producerId: number;
  sequence: number | undefined;
  timestampMs: number;
}

const TAG_RECORD = tag(1, WIRE_LEN);
const FIELD_OFFSET = 1;
const FIELD_PAYLOAD = 2;
const FIELD_KEY = 3;
const FIELD_PRODUCER_ID = 4;
const FIELD_SEQUENCE = 5;
const FIELD_TIMESTAMP = 6;

/** Lays stored records (each a partq.v1.Record's bytes) end to end as a RecordBatch. */
export function encodeRecordBatch(stored: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const record of stored) total += bytesFieldSize(record.byteLength);
  const buffer = Buffer.allocUnsafe(total);
  let at = 0;
  for (const record of stored) at = writeBytesField(buffer, at, TAG_RECORD, record);
  return buffer;
}

/** Reads every record of a RecordBatch; unknown fields are skipped, anything malformed throws WireFormatError. */
export function decodeRecordBatch(data: Uint8Array): BatchRecord[] {
  const records: BatchRecord[] = [];
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

/**
 * Where each record of a RecordBatch lies, and what idempotence needs of it, without reading its
 * payload: record i is bytes [starts[i], ends[i]) of the batch, tag and length included, so any
 * run of them sliced out of the batch is a RecordBatch itself. producerIds[i] is 0 and sequences[i]
 * undefined for a record without them.
 */
export interface RecordBatchIndex {
  offsets: number[];
  starts: number[];
  ends: number[];
  producerIds: number[];
  sequences: (number | undefined)[];
  /** Append times, ms since the epoch (what a topic's time limit is judged on). */
  timestamps: number[];
}

/** Indexes a RecordBatch's records; anything malformed throws WireFormatError. */
export function indexRecordBatch(data: Uint8Array): RecordBatchIndex {
  // Counted first, so that each column is allocated once at its size rather than grown record by
  // record (the manager indexes every record it syncs: ~220 bytes of garbage a record, before).
  const count = countRecords(data);
  const index: RecordBatchIndex = {
    offsets: new Array<number>(count),
    starts: new Array<number>(count),
    ends: new Array<number>(count),
    producerIds: new Array<number>(count),
    sequences: new Array<number | undefined>(count),
    timestamps: new Array<number>(count),
  };
  const outer = new WireReader(data);
  const inner = new WireReader(data);
  let i = 0;
  while (!outer.done) {
    const at = outer.pos;
    const fieldTag = outer.tag();
    if (fieldTag !== TAG_RECORD) {
      outer.skip(fieldTag & 7);
      continue;
    }
    const start = outer.lengthDelimited();
    indexRecord(inner.reset(start, outer.pos), index, i);
    index.starts[i] = at;
    index.ends[i] = outer.pos;
    i++;
  }
  return index;
}

/** How many records a RecordBatch holds (its field 1 values); anything malformed throws WireFormatError. */
function countRecords(data: Uint8Array): number {
  const reader = new WireReader(data);
  let count = 0;
  while (!reader.done) {
    const fieldTag = reader.tag();
    reader.skip(fieldTag & 7);
    if (fieldTag === TAG_RECORD) count++;
  }
  return count;
}

/** Sets record i's offset, producer id, sequence and time in the index (the last of a repeated field wins, as in protobuf); the rest is skipped. */
function indexRecord(reader: WireReader, index: RecordBatchIndex, i: number): void {
  let offset = 0;
  let producerId = 0;
  let sequence: number | undefined;
  let timestamp = 0;
  while (!reader.done) {
    const fieldTag = reader.tag();
    switch (fieldTag >>> 3) {
      case FIELD_OFFSET:
        expectWireType(fieldTag, WIRE_VARINT, 'Record.offset');
        offset = reader.uint();
        break;
      case FIELD_PRODUCER_ID:
        expectWireType(fieldTag, WIRE_VARINT, 'Record.producer_id');
        producerId = reader.int32();
        break;
      case FIELD_SEQUENCE:
        expectWireType(fieldTag, WIRE_VARINT, 'Record.sequence');
        sequence = reader.uint();
        break;
      case FIELD_TIMESTAMP:
        expectWireType(fieldTag, WIRE_VARINT, 'Record.timestamp_ms');
        timestamp = reader.uint();
        break;
      default:
        reader.skip(fieldTag & 7);
    }
  }
  index.offsets[i] = offset;
  index.producerIds[i] = producerId;
  index.sequences[i] = sequence;
  index.timestamps[i] = timestamp;
}

function readRecord(reader: WireReader): BatchRecord {
  const record: BatchRecord = { offset: 0, payload: EMPTY_BYTES, key: undefined, producerId: 0, sequence: undefined, timestampMs: 0 };
  while (!reader.done) {
    const fieldTag = reader.tag();
    switch (fieldTag >>> 3) {
      case FIELD_OFFSET:
        expectWireType(fieldTag, WIRE_VARINT, 'Record.offset');
        record.offset = reader.uint();
        break;
      case FIELD_PAYLOAD:
        expectWireType(fieldTag, WIRE_LEN, 'Record.payload');
        record.payload = reader.bytesView();
        break;
      case FIELD_KEY:
        expectWireType(fieldTag, WIRE_LEN, 'Record.key');
        record.key = reader.bytesView();
        break;
      case FIELD_PRODUCER_ID:
        expectWireType(fieldTag, WIRE_VARINT, 'Record.producer_id');
        record.producerId = reader.int32();
        break;
      case FIELD_SEQUENCE:
        expectWireType(fieldTag, WIRE_VARINT, 'Record.sequence');
        record.sequence = reader.uint();
        break;
      case FIELD_TIMESTAMP:
        expectWireType(fieldTag, WIRE_VARINT, 'Record.timestamp_ms');
        record.timestampMs = reader.uint();
        break;
      default:
        reader.skip(fieldTag & 7);
    }
  }
  return record;
}
