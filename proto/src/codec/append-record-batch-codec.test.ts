import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AppendRecordBatchSchema } from '../gen/partq/v1/types_pb.js';
import { decodeAppendRecordBatch, encodeAppendRecordBatch } from './append-record-batch-codec.js';
import type { RecordFields } from './record-codec.js';
import { WireFormatError } from './wire-format-error.js';
import { bytes, wireFailure } from '../../test/wire-test-helpers.js';


const records: RecordFields[] = [
  { payload: bytes(1, 2, 3), key: bytes(9), producerId: 7, sequence: 42n },
  { payload: bytes(), producerId: 0 },
  { payload: new Uint8Array(300).fill(5), key: bytes(), producerId: 300, sequence: 0 },
  { payload: bytes(1), producerId: 0x7fffffff, sequence: Number.MAX_SAFE_INTEGER },
  { payload: bytes(1), producerId: -5 },
  { payload: bytes(2), producerId: 7, sequence: 50, previousSequence: 42n },
  { payload: bytes(3), producerId: 8, sequence: 1, previousSequence: 0 },
];

function reference(list: readonly RecordFields[]): Uint8Array {
  return toBinary(
    AppendRecordBatchSchema,
    create(AppendRecordBatchSchema, {
      records: list.map((r) => ({
        ...r,
        sequence: r.sequence === undefined ? undefined : BigInt(r.sequence),
        previousSequence: r.previousSequence === undefined ? undefined : BigInt(r.previousSequence),
      })),
    }),
  );
}

describe('encodeAppendRecordBatch', () => {
  test('writes the bytes toBinary writes for the same records', () => {
    expect(Buffer.from(encodeAppendRecordBatch(records))).toEqual(Buffer.from(reference(records)));
    expect(encodeAppendRecordBatch([]).byteLength).toBe(0);
  });

  test('refuses sequences the wire format (as the broker reads it) cannot carry', () => {
    expect(() => encodeAppendRecordBatch([{ payload: bytes(1), producerId: 1, sequence: -1n }])).toThrow(RangeError);
    expect(() => encodeAppendRecordBatch([{ payload: bytes(1), producerId: 1, sequence: 2n ** 60n }])).toThrow(RangeError);
    expect(() => encodeAppendRecordBatch([{ payload: bytes(1), producerId: 1, sequence: 1, previousSequence: -1 }])).toThrow(RangeError);
  });
});

describe('decodeAppendRecordBatch', () => {
  test('reads back what protobuf-es wrote, sequences as numbers, payloads as views', () => {
    const data = reference(records);
    const decoded = decodeAppendRecordBatch(data);
    const expected = fromBinary(AppendRecordBatchSchema, data).records.map((r) => ({
      payload: r.payload,
      key: r.key,
      producerId: r.producerId,
      sequence: r.sequence === undefined ? undefined : Number(r.sequence),
      previousSequence: r.previousSequence === undefined ? undefined : Number(r.previousSequence),
    }));
    expect(decoded).toEqual(expected);
    expect(decoded[0]!.payload.buffer).toBe(data.buffer);
  });

  test.each([
    ['a truncated record', bytes(0x0a, 5, 0x0a)],
    ['a length past the record', bytes(0x0a, 3, 0x0a, 9, 1)],
    ['a known field with the wrong wire type', bytes(0x0a, 2, 0x08, 1)],
    ['a varint longer than ten bytes', bytes(0x0a, 12, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)],
    ['field number 0', bytes(0x00)],
  ])('refuses %s as MALFORMED', (_name, data) => {
    expect(wireFailure(() => decodeAppendRecordBatch(data)).code).toBe('MALFORMED');
  });

  test('refuses negative and huge sequences as OUT_OF_RANGE', () => {
    for (const sequence of [-1n, 2n ** 60n]) {
      const data = toBinary(AppendRecordBatchSchema, create(AppendRecordBatchSchema, { records: [{ payload: bytes(1), sequence }] }));
      expect(wireFailure(() => decodeAppendRecordBatch(data)).code).toBe('OUT_OF_RANGE');
      const previous = toBinary(AppendRecordBatchSchema, create(AppendRecordBatchSchema, { records: [{ payload: bytes(1), sequence: 1n, previousSequence: sequence }] }));
      expect(wireFailure(() => decodeAppendRecordBatch(previous)).code).toBe('OUT_OF_RANGE');
    }
  });

  test('never crashes on arbitrary bytes: it decodes or throws a WireFormatError', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const valid = encodeAppendRecordBatch(records);
    for (let i = 0; i < 2000; i++) {
      const data = Uint8Array.from(valid.subarray(0, Math.floor(random() * valid.length)));
      if (data.length > 0) data[Math.floor(random() * data.length)] = Math.floor(random() * 256);
      try {
        decodeAppendRecordBatch(data);
      } catch (error) {
        expect(error).toBeInstanceOf(WireFormatError);
      }
    }
  });
});
