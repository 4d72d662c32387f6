import { fromBinary } from '@bufbuild/protobuf';
import { RecordSchema, type Record as LogRecord } from '../gen/partq/v1/types_pb.js';
import { EMPTY_BYTES, bytesFieldSize, sequenceNumber, varintFieldSize, WIRE_LEN, WIRE_VARINT, tag, writeBytesField, writeVarintField } from './wire.js';

/**
 * The stored form of a partition record (a partq.v1.Record in protobuf binary), written and read
 * by hand. protobuf-es's reflection-based create()+toBinary() cost ~6 µs per record and fromBinary()
 * ~2.5 µs, a third of the broker's CPU on the append and sync paths; this does the same in a
 * fraction of that. The bytes are exactly what toBinary(RecordSchema, ...) writes (fields in number
 * order, proto3 defaults left out, optional fields written when set), so WALs written before and
 * after read the same. Anything decodeRecord does not expect goes to fromBinary.
 */

/** What a record is made of when the broker appends it. */
export interface RecordFields {
  payload: Uint8Array;
  key?: Uint8Array | undefined;
  producerId: number;
  /** A bigint from protobuf-es objects, a number from the hand-written codecs. */
  sequence?: bigint | number | undefined;
}

const TAG_OFFSET = tag(1, WIRE_VARINT);
const TAG_PAYLOAD = tag(2, WIRE_LEN);
const TAG_KEY = tag(3, WIRE_LEN);
const TAG_PRODUCER_ID = tag(4, WIRE_VARINT);
const TAG_SEQUENCE = tag(5, WIRE_VARINT);
const TAG_TIMESTAMP = tag(6, WIRE_VARINT);
const TAG_HELD = tag(7, WIRE_VARINT);
const HELD_FIELD_BYTES = varintFieldSize(1);
const TWO_POW_32 = 2 ** 32;

function assertSafe(value: number, field: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`record ${field} ${value} is not a safe integer`);
}

/**
 * Encodes consecutive records from `firstOffset` on, all stamped `timestampMs` (and all marked
 * `held_until_committed` when `held`: appended with acks=all), into one buffer; returns a view per
 * record.
 */
export function encodeRecords(records: readonly RecordFields[], firstOffset: number, timestampMs: number, held = false): Uint8Array[] {
  assertSafe(firstOffset + records.length, 'offset');
  assertSafe(timestampMs, 'timestamp');
  const sizes = new Array<number>(records.length);
  const sequences = new Array<number | undefined>(records.length);
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const offset = firstOffset + i;
    let size = 0;
    if (offset !== 0) size += varintFieldSize(offset);
    if (record.payload.byteLength > 0) size += bytesFieldSize(record.payload.byteLength);
    if (record.key !== undefined) size += bytesFieldSize(record.key.byteLength);
    if (record.producerId !== 0) size += varintFieldSize(record.producerId);
    const sequence = sequenceNumber(record.sequence);
    if (sequence !== undefined) size += varintFieldSize(sequence);
    sequences[i] = sequence;
    if (timestampMs !== 0) size += varintFieldSize(timestampMs);
    if (held) size += HELD_FIELD_BYTES;
    sizes[i] = size;
    total += size;
  }

  const buffer = Buffer.allocUnsafe(total);
  const views = new Array<Uint8Array>(records.length);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const start = at;
    const offset = firstOffset + i;
    if (offset !== 0) at = writeVarintField(buffer, at, TAG_OFFSET, offset);
    if (record.payload.byteLength > 0) at = writeBytesField(buffer, at, TAG_PAYLOAD, record.payload);
    if (record.key !== undefined) at = writeBytesField(buffer, at, TAG_KEY, record.key);
    if (record.producerId !== 0) at = writeVarintField(buffer, at, TAG_PRODUCER_ID, record.producerId);
    const sequence = sequences[i];
    if (sequence !== undefined) at = writeVarintField(buffer, at, TAG_SEQUENCE, sequence);
    if (timestampMs !== 0) at = writeVarintField(buffer, at, TAG_TIMESTAMP, timestampMs);
    if (held) at = writeVarintField(buffer, at, TAG_HELD, 1);
    if (at - start !== sizes[i]) throw new Error(`record codec: wrote ${at - start} bytes, sized ${sizes[i]}`);
    views[i] = buffer.subarray(start, at);
  }
  return views;
}

/** A varint as a number, or undefined when it is not a non-negative safe integer (left to fromBinary). */
function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (at >= bytes.length) return undefined;
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: at };
    scale *= 128;
  }
  return undefined; // 2^56 and beyond, or negative int32/int64
}

/** Decodes one stored record; the payload and key are views into `bytes`. */
export function decodeRecord(bytes: Uint8Array): LogRecord {
  const record: LogRecord = { $typeName: 'partq.v1.Record', offset: 0n, payload: EMPTY_BYTES, producerId: 0, timestampMs: 0n, heldUntilCommitted: false };
  let at = 0;
  while (at < bytes.length) {
    const fieldTag = bytes[at++]!;
    if (fieldTag >= 0x80) return fromBinary(RecordSchema, bytes);
    if ((fieldTag & 7) === WIRE_LEN) {
      const length = readVarint(bytes, at);
      if (!length || length.next + length.value > bytes.length) return fromBinary(RecordSchema, bytes);
      const value = bytes.subarray(length.next, length.next + length.value);
      at = length.next + length.value;
      if (fieldTag === TAG_PAYLOAD) record.payload = value;
      else if (fieldTag === TAG_KEY) record.key = value;
      else return fromBinary(RecordSchema, bytes);
      continue;
    }
    const varint = fieldTag & 7 ? undefined : readVarint(bytes, at);
    if (!varint || (fieldTag === TAG_PRODUCER_ID && varint.value >= TWO_POW_32 / 2)) return fromBinary(RecordSchema, bytes);
    at = varint.next;
    if (fieldTag === TAG_OFFSET) record.offset = BigInt(varint.value);
    else if (fieldTag === TAG_PRODUCER_ID) record.producerId = varint.value;
    else if (fieldTag === TAG_SEQUENCE) record.sequence = BigInt(varint.value);
    else if (fieldTag === TAG_TIMESTAMP) record.timestampMs = BigInt(varint.value);
    else if (fieldTag === TAG_HELD) record.heldUntilCommitted = varint.value !== 0;
    else return fromBinary(RecordSchema, bytes);
  }
  return record;
}
