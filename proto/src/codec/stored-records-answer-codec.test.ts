import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FetchResponseSchema, TailResponseSchema } from '../gen/partq/v1/broker_pb.js';
import { decodeRecordBatch, encodeRecordBatch } from './record-batch-codec.js';
import { encodeRecords } from './record-codec.js';
import { decodeFetchResponse, decodeTailResponse, encodeStoredRecordsAnswer, type StoredRecordsAnswerSchema } from './stored-records-answer-codec.js';
import { WIRE_DECODERS } from './wire-decoders.js';
import { bytes } from '../../test/wire-test-helpers.js';

const stored = encodeRecords(
  [
    { payload: bytes(1, 2, 3), key: bytes(9), producerId: 7, sequence: 42n },
    { payload: new Uint8Array(300).fill(5), producerId: 300, sequence: 2 ** 40 },
  ],
  2 ** 35,
  1_764_000_000_000,
);

/** What protobuf-es writes for the same answer. */
function reference(schema: StoredRecordsAnswerSchema, records: readonly Uint8Array[], endOffset: number, walStartOffset: number): Buffer {
  const answer = create(schema, { endOffset: BigInt(endOffset), walStartOffset: BigInt(walStartOffset), recordsData: encodeRecordBatch(records) });
  return Buffer.from(toBinary(schema, answer));
}

describe.each([
  ['FetchResponse', FetchResponseSchema],
  ['TailResponse', TailResponseSchema],
] as const)('encodeStoredRecordsAnswer (%s)', (_name, schema) => {
  const cases: [string, Uint8Array[], number, number][] = [
    ['records past 2^32, a key and a 300-byte payload', stored, 2 ** 35 + 2, 2 ** 35],
    ['no records (a heartbeat)', [], 12, 4],
    ['zero offsets (proto3 leaves them out)', stored, 0, 0],
    ['a large record (multi-byte lengths at every level)', encodeRecords([{ payload: new Uint8Array(200_000).fill(7), producerId: 1 }], 0, 1), 1, 0],
  ];

  test.each(cases)('writes the bytes protobuf-es writes: %s', (_case, records, endOffset, walStartOffset) => {
    const { bytes: encoded } = encodeStoredRecordsAnswer(schema, records, endOffset, walStartOffset);
    expect(Buffer.from(encoded).equals(reference(schema, records, endOffset, walStartOffset))).toBe(true);
  });

  it('gives the same answer as a message, its records_data a view of the bytes', () => {
    const { bytes: encoded, answer } = encodeStoredRecordsAnswer(schema, stored, 2 ** 35 + 2, 2 ** 35);
    expect(answer.$typeName).toBe(schema.typeName);
    expect(answer.records).toEqual([]);
    expect(answer.endOffset).toBe(BigInt(2 ** 35 + 2));
    expect(answer.walStartOffset).toBe(BigInt(2 ** 35));
    expect(answer.recordsData.buffer).toBe(encoded.buffer);
    const decoded = fromBinary(schema, encoded);
    expect(Buffer.from(decoded.recordsData).equals(Buffer.from(answer.recordsData))).toBe(true);
    const records = decodeRecordBatch(decoded.recordsData);
    expect(records.map((r) => r.offset)).toEqual([2 ** 35, 2 ** 35 + 1]);
    expect(records.map((r) => r.producerId)).toEqual([7, 300]);
    expect(Buffer.from(records[0]!.key!).equals(Buffer.from(bytes(9)))).toBe(true);
  });

  it('refuses offsets that are negative or not safe integers', () => {
    expect(() => encodeStoredRecordsAnswer(schema, [], -1, 0)).toThrow(RangeError);
    expect(() => encodeStoredRecordsAnswer(schema, [], 0, 2 ** 53)).toThrow(RangeError);
  });
});

describe.each([
  ['FetchResponse', FetchResponseSchema, decodeFetchResponse],
  ['TailResponse', TailResponseSchema, decodeTailResponse],
] as const)('decoding a %s by hand', (_name, schema, decode) => {
  test.each([
    ['records past 2^32, a key and a 300-byte payload', stored, 2 ** 35 + 2, 2 ** 35],
    ['no records (a heartbeat)', [], 12, 4],
    ['zero offsets (proto3 leaves them out)', stored, 0, 0],
  ] as [string, Uint8Array[], number, number][])('reads what fromBinary reads: %s', (_case, records, endOffset, walStartOffset) => {
    const wire = reference(schema, records, endOffset, walStartOffset);
    const decoded = decode(wire);
    expect(decoded).toBeDefined();
    expect(equals(schema, decoded!, fromBinary(schema, wire))).toBe(true);
    expect(decoded!.$typeName).toBe(schema.typeName);
    // The records stay where they arrived: a view, not a copy.
    if (records.length > 0) expect(decoded!.recordsData.buffer).toBe(wire.buffer);
    expect(Buffer.from(decoded!.recordsData)).toEqual(records.length > 0 ? Buffer.from(encodeRecordBatch(records)) : Buffer.alloc(0));
  });

  it('is what the roles\' transports read the answer with', () => {
    expect(WIRE_DECODERS.get(schema.typeName)).toBe(decode);
  });

  it('leaves to fromBinary what it does not take: the older repeated records, unknown fields, huge offsets, cut bytes', () => {
    const withRecords = toBinary(schema, create(schema, { endOffset: 3n, records: [{ offset: 2n, payload: bytes(1) }] }));
    expect(decode(withRecords)).toBeUndefined();
    const unknown = Buffer.concat([reference(schema, stored, 5, 1), Buffer.from([(9 << 3) | 0, 1])]);
    expect(decode(unknown)).toBeUndefined();
    expect(decode(toBinary(schema, create(schema, { endOffset: 2n ** 60n })))).toBeUndefined();
    const whole = reference(schema, stored, 5, 1);
    expect(decode(whole.subarray(0, whole.length - 3))).toBeUndefined();
  });
});
