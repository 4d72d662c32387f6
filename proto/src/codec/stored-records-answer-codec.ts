import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { FetchResponse, FetchResponseSchema, TailResponse, TailResponseSchema } from '../gen/partq/v1/broker_pb.js';
import { NotTaken, unlessDeclined } from './multiplexed-call-codec.js';
import { bytesFieldSize, EMPTY_BYTES, tag, varintFieldSize, varintSize, WIRE_LEN, WIRE_VARINT, WireReader, writeBytesField, writeVarint, writeVarintField } from './wire.js';

/** The answers that carry a partition's stored records: Fetch's and Tail's (the same fields, 1 to 4). */
export type StoredRecordsAnswerSchema = typeof FetchResponseSchema | typeof TailResponseSchema;

const TAG_END_OFFSET = tag(2, WIRE_VARINT);
const TAG_WAL_START_OFFSET = tag(3, WIRE_VARINT);
const TAG_RECORDS_DATA = tag(4, WIRE_LEN);
/** RecordBatch.records, field 1. */
const TAG_RECORD = tag(1, WIRE_LEN);

/**
 * A FetchResponse or TailResponse whose records travel in `records_data`: the WAL's stored records
 * (each a partq.v1.Record's bytes) laid end to end as a RecordBatch, written by hand into one buffer
 * with each record copied once, and the same answer as a message whose `recordsData` is a view into
 * that buffer (the fields and the bytes say the same). Why: encoding `records` meant decoding every
 * stored record into an object and protobuf-es encoding it again by reflection, ~8-10 % of a busy
 * broker's CPU on the delivery path. The bytes equal toBinary(schema, ...) of the same answer.
 */
export function encodeStoredRecordsAnswer<S extends StoredRecordsAnswerSchema>(
  schema: S,
  stored: readonly Uint8Array[],
  endOffset: number,
  walStartOffset: number,
): { bytes: Uint8Array; answer: MessageShape<S> } {
  if (!Number.isSafeInteger(endOffset) || endOffset < 0 || !Number.isSafeInteger(walStartOffset) || walStartOffset < 0) {
    throw new RangeError(`offsets must be safe non-negative integers (end ${endOffset}, WAL start ${walStartOffset})`);
  }
  let dataSize = 0;
  for (const record of stored) dataSize += bytesFieldSize(record.byteLength);
  const total = offsetFieldSize(endOffset) + offsetFieldSize(walStartOffset) + (dataSize > 0 ? 1 + varintSize(dataSize) + dataSize : 0);

  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  if (endOffset !== 0) at = writeVarintField(bytes, at, TAG_END_OFFSET, endOffset);
  if (walStartOffset !== 0) at = writeVarintField(bytes, at, TAG_WAL_START_OFFSET, walStartOffset);
  let dataStart = at;
  if (dataSize > 0) {
    bytes[at++] = TAG_RECORDS_DATA;
    at = writeVarint(bytes, at, dataSize);
    dataStart = at;
    for (const record of stored) at = writeBytesField(bytes, at, TAG_RECORD, record);
  }
  const answer = create(schema as DescMessage, {
    endOffset: BigInt(endOffset),
    walStartOffset: BigInt(walStartOffset),
    recordsData: bytes.subarray(dataStart, dataStart + dataSize),
  }) as MessageShape<S>;
  return { bytes, answer };
}

/** proto3 leaves a zero scalar out. */
function offsetFieldSize(value: number): number {
  return value === 0 ? 0 : varintFieldSize(value);
}

/**
 * A FetchResponse or TailResponse read by hand into the message fromBinary() makes, `recordsData` a
 * view into `bytes`; undefined for what it does not take (records in the older repeated `records`
 * field, unknown fields, offsets past 2^53), which fromBinary() then reads. Why: a replica reads a
 * Tail answer for every round of appends it follows, and fromBinary() built each by reflection,
 * ~5 % of the replica's CPU on the end-to-end line.
 */
export function decodeFetchResponse(bytes: Uint8Array): FetchResponse | undefined {
  return readStoredRecordsAnswer(bytes, { $typeName: 'partq.v1.FetchResponse', records: [], endOffset: 0n, walStartOffset: 0n, recordsData: EMPTY_BYTES });
}

/** As decodeFetchResponse, for Tail's answers. */
export function decodeTailResponse(bytes: Uint8Array): TailResponse | undefined {
  return readStoredRecordsAnswer(bytes, { $typeName: 'partq.v1.TailResponse', records: [], endOffset: 0n, walStartOffset: 0n, recordsData: EMPTY_BYTES });
}

/** Reads the answer's fields into `answer` (all at their defaults). */
function readStoredRecordsAnswer<A extends FetchResponse | TailResponse>(bytes: Uint8Array, answer: A): A | undefined {
  return unlessDeclined(() => {
    const reader = new WireReader(bytes);
    while (!reader.done) {
      switch (reader.tag()) {
        case TAG_END_OFFSET:
          answer.endOffset = BigInt(reader.uint());
          break;
        case TAG_WAL_START_OFFSET:
          answer.walStartOffset = BigInt(reader.uint());
          break;
        case TAG_RECORDS_DATA:
          answer.recordsData = reader.bytesView() as Uint8Array<ArrayBuffer>;
          break;
        default:
          throw new NotTaken();
      }
    }
    return answer;
  });
}
