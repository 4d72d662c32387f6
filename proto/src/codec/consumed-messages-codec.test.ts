import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ConsumedMessageSchema, ConsumeResponseSchema, ConsumeStreamResponseSchema } from '../gen/partq/v1/replica_pb.js';
import { encodeConsumedMessages, type ConsumedRecord } from './consumed-messages-codec.js';
import { bytes } from '../../test/wire-test-helpers.js';

/** What the replica answered before this codec: create() and toBinary() of protobuf-es. */
function reference(partitionId: number, records: readonly ConsumedRecord[]) {
  const messages = records.map((r) =>
    create(ConsumedMessageSchema, {
      partitionId,
      offset: BigInt(r.offset),
      payload: r.payload,
      ...(r.key === undefined ? {} : { key: r.key }),
      timestampMs: BigInt(r.timestampMs),
    }),
  );
  return { messages, bytes: toBinary(ConsumeStreamResponseSchema, create(ConsumeStreamResponseSchema, { messages })) };
}

describe('encodeConsumedMessages', () => {
  const cases: Record<string, [number, ConsumedRecord[]]> = {
    'records with and without keys': [
      3,
      [
        { offset: 41, payload: bytes(1, 2, 3), key: bytes(9), timestampMs: 1_764_000_000_000 },
        { offset: 42, payload: bytes(4), timestampMs: 1_764_000_000_001 },
      ],
    ],
    'zeros and an empty payload left out, an empty key written (it is set)': [0, [{ offset: 0, payload: new Uint8Array(0), key: new Uint8Array(0), timestampMs: 0 }]],
    'large offsets, ids and timestamps': [70_000, [{ offset: 2 ** 40 + 5, payload: bytes(7), timestampMs: Number.MAX_SAFE_INTEGER }]],
    'multi-byte lengths': [1, [{ offset: 9, payload: new Uint8Array(300).fill(5), timestampMs: 1 }, { offset: 10, payload: new Uint8Array(20_000).fill(6), key: new Uint8Array(130).fill(1), timestampMs: 2 }]],
    'no records': [2, []],
  };

  test.each(Object.entries(cases))('writes what protobuf-es writes, and the same messages: %s', (_name, [partitionId, records]) => {
    const encoded = encodeConsumedMessages(partitionId, records);
    const expected = reference(partitionId, records);
    expect(Buffer.from(encoded.bytes)).toEqual(Buffer.from(expected.bytes));
    expect(encoded.messages).toEqual(expected.messages);
    // The unary answer has the same field: the bytes read back as either.
    expect(fromBinary(ConsumeResponseSchema, encoded.bytes).messages).toEqual(expected.messages);
  });

  test('refuses what no record has (a negative or unsafe offset, partition or timestamp)', () => {
    expect(() => encodeConsumedMessages(-1, [])).toThrow(RangeError);
    expect(() => encodeConsumedMessages(0, [{ offset: -1, payload: bytes(1), timestampMs: 1 }])).toThrow(RangeError);
    expect(() => encodeConsumedMessages(0, [{ offset: 2 ** 53, payload: bytes(1), timestampMs: 1 }])).toThrow(RangeError);
    expect(() => encodeConsumedMessages(0, [{ offset: 1, payload: bytes(1), timestampMs: -5 }])).toThrow(RangeError);
  });
});
