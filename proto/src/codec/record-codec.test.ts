import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { RecordSchema } from '../gen/partq/v1/types_pb.js';
import { decodeRecord, encodeRecords, StoredRecords, type RecordFields } from './record-codec.js';

const bytes = (...values: number[]) => new Uint8Array(values);

/** What the broker stored before this codec: protobuf-es create + toBinary. */
function reference(fields: RecordFields, offset: number, timestampMs: number, held = false): Uint8Array {
  return toBinary(
    RecordSchema,
    create(RecordSchema, { offset: BigInt(offset), payload: fields.payload, key: fields.key, producerId: fields.producerId, sequence: fields.sequence === undefined ? undefined : BigInt(fields.sequence), timestampMs: BigInt(timestampMs), heldUntilCommitted: held }),
  );
}

const cases: { name: string; fields: RecordFields; offset: number; timestampMs: number; held?: boolean }[] = [
  { name: 'everything set', fields: { payload: bytes(1, 2, 3), key: bytes(9), producerId: 7, sequence: 42n }, offset: 1234, timestampMs: 1_764_000_000_000 },
  { name: 'zeros left out', fields: { payload: bytes(), producerId: 0 }, offset: 0, timestampMs: 0 },
  { name: 'optional fields set to zero values are written', fields: { payload: bytes(5), key: bytes(), producerId: 1, sequence: 0n }, offset: 1, timestampMs: 1 },
  { name: 'multi-byte lengths and varints', fields: { payload: new Uint8Array(300).fill(7), producerId: 300, sequence: 2n ** 40n }, offset: 2 ** 35, timestampMs: 2 ** 41 },
  { name: 'largest safe values', fields: { payload: bytes(1), producerId: 0x7fffffff, sequence: BigInt(Number.MAX_SAFE_INTEGER) }, offset: Number.MAX_SAFE_INTEGER - 1, timestampMs: Number.MAX_SAFE_INTEGER },
  { name: 'negative producer id (sign-extended int32)', fields: { payload: bytes(1), producerId: -5 }, offset: 3, timestampMs: 4 },
  { name: 'held until committed (acks=all)', fields: { payload: bytes(1, 2), producerId: 3, sequence: 4n }, offset: 5, timestampMs: 6, held: true },
  { name: 'held, with zeros left out', fields: { payload: bytes(), producerId: 0 }, offset: 0, timestampMs: 0, held: true },
];

describe('StoredRecords', () => {
  test.each(cases)('writes where it is told the bytes toBinary writes: $name', ({ fields, offset, timestampMs, held }) => {
    const stored = new StoredRecords([fields], offset, timestampMs, held);
    const expected = Buffer.from(reference(fields, offset, timestampMs, held));
    expect(stored.count).toBe(1);
    expect(stored.byteLength(0)).toBe(expected.length);
    expect(stored.totalBytes).toBe(expected.length);
    // Into the middle of a larger buffer, leaving the bytes around it alone.
    const target = Buffer.alloc(expected.length + 6, 0xee);
    stored.writeTo(0, target, 3);
    expect(target.subarray(3, 3 + expected.length)).toEqual(expected);
    expect([...target.subarray(0, 3), ...target.subarray(3 + expected.length)]).toEqual([0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
  });

  test('sizes a batch when made, and refuses a bad sequence or offset before anything is written', () => {
    const fields: RecordFields[] = [
      { payload: bytes(1), producerId: 1, sequence: 10n },
      { payload: new Uint8Array(200), producerId: 1, sequence: 11n, key: bytes(3) },
    ];
    const stored = new StoredRecords(fields, 126, 99, true);
    expect([stored.byteLength(0), stored.byteLength(1)]).toEqual(fields.map((f, i) => reference(f, 126 + i, 99, true).byteLength));
    expect(stored.totalBytes).toBe(stored.byteLength(0) + stored.byteLength(1));
    expect(() => new StoredRecords([{ payload: bytes(1), producerId: 1, sequence: -1n }], 0, 1)).toThrow(RangeError);
    expect(() => new StoredRecords([{ payload: bytes(1), producerId: 1 }], Number.MAX_SAFE_INTEGER, 1)).toThrow(RangeError);
  });
});

describe('encodeRecords', () => {
  test.each(cases)('writes the bytes toBinary writes: $name', ({ fields, offset, timestampMs, held }) => {
    const [encoded] = encodeRecords([fields], offset, timestampMs, held);
    expect(Buffer.from(encoded!)).toEqual(Buffer.from(reference(fields, offset, timestampMs, held)));
  });

  test('gives consecutive offsets to a batch, each record its own view', () => {
    const fields: RecordFields[] = [
      { payload: bytes(1), producerId: 1, sequence: 10n },
      { payload: bytes(2, 2), producerId: 1, sequence: 11n, key: bytes(3) },
      { payload: bytes(3, 3, 3), producerId: 2 },
    ];
    const encoded = encodeRecords(fields, 126, 99);
    expect(encoded.map((e) => Buffer.from(e))).toEqual(fields.map((f, i) => Buffer.from(reference(f, 126 + i, 99))));
  });

  test('refuses what the wire format cannot carry exactly', () => {
    expect(() => encodeRecords([{ payload: bytes(1), producerId: 1, sequence: -1n }], 0, 0)).toThrow(RangeError);
    expect(() => encodeRecords([{ payload: bytes(1), producerId: 1, sequence: 2n ** 60n }], 0, 0)).toThrow(RangeError);
  });
});

describe('decodeRecord', () => {
  test.each(cases)('reads what fromBinary reads: $name', ({ fields, offset, timestampMs, held }) => {
    const stored = reference(fields, offset, timestampMs, held);
    const decoded = decodeRecord(stored);
    expect(equals(RecordSchema, decoded, fromBinary(RecordSchema, stored))).toBe(true);
    expect(decoded).toEqual(fromBinary(RecordSchema, stored));
    // And it serialises back to the same bytes (the broker sends decoded records on to the manager).
    expect(Buffer.from(toBinary(RecordSchema, decoded))).toEqual(Buffer.from(stored));
  });

  test('hands what it does not expect to fromBinary: unknown fields, out-of-range varints', () => {
    const withUnknownField = Buffer.concat([Buffer.from(reference({ payload: bytes(1), producerId: 1 }, 5, 6)), Buffer.from([(9 << 3) | 0, 1])]);
    expect(decodeRecord(withUnknownField)).toEqual(fromBinary(RecordSchema, withUnknownField));
    const hugeOffset = toBinary(RecordSchema, create(RecordSchema, { offset: 2n ** 62n, payload: bytes(1) }));
    expect(decodeRecord(hugeOffset).offset).toBe(2n ** 62n);
  });

  test('a field repeated on the wire: the last one wins, as in protobuf', () => {
    const twice = Buffer.concat([Buffer.from(reference({ payload: bytes(1), producerId: 1 }, 5, 6)), Buffer.from([(1 << 3) | 0, 9])]);
    expect(decodeRecord(twice).offset).toBe(9n);
    expect(fromBinary(RecordSchema, twice).offset).toBe(9n);
  });
});
