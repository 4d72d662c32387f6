import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ConsumedMessageSchema, ConsumeResponseSchema, ConsumeStreamResponseSchema } from '../gen/partq/v1/replica_pb.js';
import { decodeConsumedMessages, decodeConsumeResponse, decodeConsumeStreamResponse, encodeConsumedMessages, type ConsumedRecord } from './consumed-messages-codec.js';
import { WIRE_DECODERS } from './wire-decoders.js';
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

/** A ConsumeStreamResponse's bytes as protobuf-es writes them. */
function written(messages: Parameters<typeof create<typeof ConsumedMessageSchema>>[1][]): Uint8Array {
  return toBinary(ConsumeStreamResponseSchema, create(ConsumeStreamResponseSchema, { messages: messages.map((m) => create(ConsumedMessageSchema, m)) }));
}

describe('decodeConsumedMessages', () => {
  const cases: Record<string, Uint8Array> = {
    'keys set and unset': written([
      { partitionId: 3, offset: 41n, payload: bytes(1, 2, 3), key: bytes(9), timestampMs: 1_764_000_000_000n },
      { partitionId: 3, offset: 42n, payload: bytes(4), timestampMs: 1_764_000_000_001n },
    ]),
    'zeros left out, an empty key written': written([{ partitionId: 0, offset: 0n, payload: new Uint8Array(0), key: new Uint8Array(0), timestampMs: 0n }]),
    'a negative partition id (ten bytes), large offsets and timestamps': written([{ partitionId: -1, offset: 2n ** 40n + 5n, payload: bytes(7), timestampMs: BigInt(Number.MAX_SAFE_INTEGER) }]),
    'multi-byte lengths': written([{ partitionId: 1, offset: 9n, payload: new Uint8Array(20_000).fill(6), key: new Uint8Array(130).fill(1), timestampMs: 2n }]),
    'no messages': new Uint8Array(0),
    'what the replica writes': encodeConsumedMessages(5, [{ offset: 7, payload: bytes(1), key: bytes(2), timestampMs: 3 }, { offset: 8, payload: bytes(4), timestampMs: 5 }]).bytes,
    // A field written twice keeps its last value; fields in any order.
    'repeated and reordered fields': Uint8Array.from([0x0a, 0x0c, 0x28, 0x02, 0x1a, 0x01, 0x07, 0x10, 0x01, 0x10, 0x05, 0x1a, 0x01, 0x08]),
  };

  test.each(Object.entries(cases))('reads what fromBinary reads: %s', (_name, data) => {
    const expected = fromBinary(ConsumeStreamResponseSchema, data);
    expect(decodeConsumeStreamResponse(data)).toEqual(expected);
    expect(decodeConsumeResponse(data)).toEqual(fromBinary(ConsumeResponseSchema, data));
  });

  test('payloads and keys are views of the bytes read, not copies', () => {
    const data = cases['keys set and unset']!;
    const [first] = decodeConsumedMessages(data)!;
    expect(first!.payload.buffer).toBe(data.buffer);
    expect(first!.key!.buffer).toBe(data.buffer);
  });

  test.each([
    ['an unknown field in a message', Uint8Array.from([0x0a, 0x02, 0x30, 0x01])],
    ['an unknown field in the answer', Uint8Array.from([0x10, 0x01])],
    ['an offset past 2^53', written([{ offset: 2n ** 60n, payload: bytes(1) }])],
    ['a negative timestamp', written([{ offset: 1n, payload: bytes(1), timestampMs: -1n }])],
    ['a length past the end', Uint8Array.from([0x0a, 0x05, 0x10, 0x01])],
  ])('leaves to protobuf-es what it does not take: %s', (_name, data) => {
    expect(decodeConsumedMessages(data)).toBeUndefined();
  });

  test('the roles read both consume answers by hand, by type name', () => {
    const data = cases['keys set and unset']!;
    expect(WIRE_DECODERS.get(ConsumeStreamResponseSchema.typeName)?.(data)).toEqual(fromBinary(ConsumeStreamResponseSchema, data));
    expect(WIRE_DECODERS.get(ConsumeResponseSchema.typeName)?.(data)).toEqual(fromBinary(ConsumeResponseSchema, data));
  });
});
