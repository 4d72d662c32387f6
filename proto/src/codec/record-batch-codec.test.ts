import { create, toBinary } from '@bufbuild/protobuf';
import { RecordBatchSchema, RecordSchema } from '../gen/partq/v1/types_pb.js';
import { decodeRecordBatch, encodeRecordBatch, indexRecordBatch } from './record-batch-codec.js';
import { encodeRecords } from './record-codec.js';
import { WireFormatError } from './wire-format-error.js';
import { bytes, wireFailure } from '../../test/wire-test-helpers.js';


const stored = encodeRecords(
  [
    { payload: bytes(1, 2, 3), key: bytes(9), producerId: 7, sequence: 42n },
    { payload: bytes(), producerId: 0 },
    { payload: new Uint8Array(300).fill(5), key: bytes(), producerId: 300, sequence: 2 ** 40 },
  ],
  2 ** 35,
  1_764_000_000_000,
);

describe('encodeRecordBatch', () => {
  test('writes the bytes toBinary writes for a RecordBatch of the same records', () => {
    const reference = toBinary(RecordBatchSchema, create(RecordBatchSchema, { records: stored.map((s) => fromStored(s)) }));
    expect(Buffer.from(encodeRecordBatch(stored))).toEqual(Buffer.from(reference));
    expect(encodeRecordBatch([]).byteLength).toBe(0);
  });
});

describe('decodeRecordBatch', () => {
  test('reads back every field, numbers as numbers, payloads as views into the batch', () => {
    const data = encodeRecordBatch(stored);
    const records = decodeRecordBatch(data);
    expect(records).toEqual([
      { offset: 2 ** 35, payload: bytes(1, 2, 3), key: bytes(9), producerId: 7, sequence: 42, timestampMs: 1_764_000_000_000 },
      { offset: 2 ** 35 + 1, payload: bytes(), key: undefined, producerId: 0, sequence: undefined, timestampMs: 1_764_000_000_000 },
      { offset: 2 ** 35 + 2, payload: new Uint8Array(300).fill(5), key: bytes(), producerId: 300, sequence: 2 ** 40, timestampMs: 1_764_000_000_000 },
    ]);
    expect(records[0]!.payload.buffer).toBe(data.buffer);
  });

  test('reads what protobuf-es writes, skipping fields it does not know', () => {
    const record = toBinary(RecordSchema, create(RecordSchema, { offset: 3n, payload: bytes(1), producerId: -5, timestampMs: 9n }));
    // Unknown fields of every wire type, inside the record and beside it.
    const unknown = bytes((9 << 3) | 0, 1, (10 << 3) | 1, 0, 0, 0, 0, 0, 0, 0, 0, (11 << 3) | 5, 0, 0, 0, 0, (12 << 3) | 2, 1, 7);
    const withUnknown = Buffer.concat([record, unknown]);
    const data = Buffer.concat([Buffer.from([0x0a, withUnknown.length]), withUnknown, unknown]);
    expect(decodeRecordBatch(data)).toEqual([{ offset: 3, payload: bytes(1), key: undefined, producerId: -5, sequence: undefined, timestampMs: 9 }]);
  });

  test.each([
    ['a truncated record', bytes(0x0a, 5, 0x08)],
    ['a truncated varint', bytes(0x0a, 2, 0x08, 0x80)],
    ['a length past the record', bytes(0x0a, 3, 0x12, 9, 1)],
    ['a known field with the wrong wire type', bytes(0x0a, 2, 0x0a, 0)],
    ['field number 0', bytes(0x0a, 2, 0x00, 1)],
    ['a group (unsupported wire type)', bytes(0x0b)],
  ])('refuses %s with a WireFormatError', (_name, data) => {
    expect(wireFailure(() => decodeRecordBatch(data)).code).toBe('MALFORMED');
  });

  test('refuses offsets and timestamps beyond 2^53 as OUT_OF_RANGE', () => {
    const record = toBinary(RecordSchema, create(RecordSchema, { offset: 2n ** 60n, payload: bytes(1) }));
    const data = Buffer.concat([Buffer.from([0x0a, record.length]), record]);
    expect(wireFailure(() => decodeRecordBatch(data)).code).toBe('OUT_OF_RANGE');
  });

  test('never crashes on arbitrary bytes: it decodes (or indexes) or throws a WireFormatError', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const valid = encodeRecordBatch(stored);
    for (let i = 0; i < 2000; i++) {
      const data = Uint8Array.from(valid.subarray(0, Math.floor(random() * valid.length)));
      if (data.length > 0) data[Math.floor(random() * data.length)] = Math.floor(random() * 256);
      for (const read of [decodeRecordBatch, indexRecordBatch]) {
        try {
          read(data);
        } catch (error) {
          expect(error).toBeInstanceOf(WireFormatError);
        }
      }
    }
  });
});

function fromStored(stored: Uint8Array) {
  const [record] = decodeRecordBatch(encodeRecordBatch([stored]));
  return create(RecordSchema, {
    offset: BigInt(record!.offset),
    payload: record!.payload,
    key: record!.key,
    producerId: record!.producerId,
    sequence: record!.sequence === undefined ? undefined : BigInt(record!.sequence),
    timestampMs: BigInt(record!.timestampMs),
  });
}

describe('indexRecordBatch', () => {
  test('gives each record its offset and byte range; any run of them sliced out is a RecordBatch of those records', () => {
    const data = encodeRecordBatch(stored);
    const index = indexRecordBatch(data);
    expect(index.offsets).toEqual([2 ** 35, 2 ** 35 + 1, 2 ** 35 + 2]);
    expect(index.producerIds).toEqual([7, 0, 300]);
    expect(index.sequences).toEqual([42, undefined, 2 ** 40]);
    expect(index.timestamps).toEqual([1_764_000_000_000, 1_764_000_000_000, 1_764_000_000_000]);
    expect(index.starts[0]).toBe(0);
    expect(index.ends[2]).toBe(data.byteLength);
    for (let i = 0; i < 3; i++) {
      expect(Buffer.from(data.subarray(index.starts[i], index.ends[i]))).toEqual(Buffer.from(encodeRecordBatch([stored[i]!])));
    }
    expect(decodeRecordBatch(data.subarray(index.starts[1], index.ends[2])).map((r) => r.offset)).toEqual([2 ** 35 + 1, 2 ** 35 + 2]);
  });

  test('skips fields it does not know, beside the records and inside them', () => {
    const record = toBinary(RecordSchema, create(RecordSchema, { payload: bytes(1), offset: 3n, producerId: -5, sequence: 0n, timestampMs: 9n }));
    const unknown = bytes((12 << 3) | 2, 1, 7);
    const withUnknown = Buffer.concat([unknown, record]);
    const data = Buffer.concat([unknown, Buffer.from([0x0a, withUnknown.length]), withUnknown]);
    expect(indexRecordBatch(data)).toEqual({ offsets: [3], starts: [unknown.length], ends: [data.length], producerIds: [-5], sequences: [0], timestamps: [9] });
    expect(indexRecordBatch(bytes())).toEqual({ offsets: [], starts: [], ends: [], producerIds: [], sequences: [], timestamps: [] });
  });

  test.each([
    ['a truncated record', bytes(0x0a, 5, 0x08)],
    ['an offset with the wrong wire type', bytes(0x0a, 2, 0x0a, 0)],
    // Each record is read within its own bounds, though one reader serves them all.
    ['a record whose varint runs on into the next record', bytes(0x0a, 2, 0x08, 0x80, 0x0a, 2, 0x08, 1)],
  ])('refuses %s with a WireFormatError', (_name, data) => {
    expect(wireFailure(() => indexRecordBatch(data)).code).toBe('MALFORMED');
  });
});
