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
  /** The producer's previous sequence on the partition (AppendRecord.previous_sequence); not stored. */
  previousSequence?: bigint | number | undefined;
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
 * Consecutive records from `firstOffset` on, all stamped `timestampMs` (and all marked
 * `held_until_committed` when `held`: appended with acks=all), sized when made (a bad offset,
 * timestamp or sequence throws here) and each written where the caller says. The broker hands them
 * to its WAL, which writes them straight into its own buffer: encoding them into a buffer first,
 * only for the WAL to copy it, was one more allocation of every appended byte.
 *
 * Reads the records' payloads and keys when written: they must not change until then.
 */
export class StoredRecords {
  readonly count: number;
  /** Every record's bytes together. */
  readonly totalBytes: number;
  private readonly sizes: number[];
  private readonly sequences: (number | undefined)[];

  constructor(
    private readonly records: readonly RecordFields[],
    private readonly firstOffset: number,
    private readonly timestampMs: number,
    private readonly held = false,
  ) {
    assertSafe(firstOffset + records.length, 'offset');
    assertSafe(timestampMs, 'timestamp');
    this.count = records.length;
    this.sizes = new Array<number>(records.length);
    this.sequences = new Array<number | undefined>(records.length);
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
      this.sequences[i] = sequence;
      if (timestampMs !== 0) size += varintFieldSize(timestampMs);
      if (held) size += HELD_FIELD_BYTES;
      this.sizes[i] = size;
      total += size;
    }
    this.totalBytes = total;
  }

  /** The stored size of record `index`. */
  byteLength(index: number): number {
    return this.sizes[index]!;
  }

  /** Writes record `index` (exactly `byteLength(index)` bytes) into `target` at `at`. */
  writeTo(index: number, target: Uint8Array, at: number): void {
    const record = this.records[index]!;
    const start = at;
    const offset = this.firstOffset + index;
    if (offset !== 0) at = writeVarintField(target, at, TAG_OFFSET, offset);
    if (record.payload.byteLength > 0) at = writeBytesField(target, at, TAG_PAYLOAD, record.payload);
    if (record.key !== undefined) at = writeBytesField(target, at, TAG_KEY, record.key);
    if (record.producerId !== 0) at = writeVarintField(target, at, TAG_PRODUCER_ID, record.producerId);
    const sequence = this.sequences[index];
    if (sequence !== undefined) at = writeVarintField(target, at, TAG_SEQUENCE, sequence);
    if (this.timestampMs !== 0) at = writeVarintField(target, at, TAG_TIMESTAMP, this.timestampMs);
    if (this.held) at = writeVarintField(target, at, TAG_HELD, 1);
    if (at - start !== this.sizes[index]) throw new Error(`record codec: wrote ${at - start} bytes, sized ${this.sizes[index]}`);
  }
}

/** The same records as StoredRecords, encoded into one buffer; a view per record. */
export function encodeRecords(records: readonly RecordFields[], firstOffset: number, timestampMs: number, held = false): Uint8Array[] {
  const stored = new StoredRecords(records, firstOffset, timestampMs, held);
  const buffer = Buffer.allocUnsafe(stored.totalBytes);
  const views = new Array<Uint8Array>(stored.count);
  let at = 0;
  for (let i = 0; i < stored.count; i++) {
    const size = stored.byteLength(i);
    stored.writeTo(i, buffer, at);
    views[i] = buffer.subarray(at, at + size);
    at += size;
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
