import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AppendRequestSchema, AppendResponseSchema, AppendStreamRequestSchema, AppendStreamResponseSchema } from '../gen/partq/v1/broker_pb.js';
import { Acks } from '../gen/partq/v1/types_pb.js';
import { decodeAppendResponse, decodeAppendStreamRequest, encodeAppendAnswer } from './append-stream-codec.js';
import { WIRE_DECODERS } from './wire-decoders.js';

const streamRequest = (init: Parameters<typeof create<typeof AppendStreamRequestSchema>>[1]) => toBinary(AppendStreamRequestSchema, create(AppendStreamRequestSchema, init));

describe('decodeAppendStreamRequest', () => {
  const cases: Record<string, Uint8Array> = {
    "a gateway's Append": streamRequest({
      callId: 12n,
      request: { topicId: 4, partitionId: 2, epoch: 7, acks: Acks.ALL, recordsData: Buffer.from([1, 2, 3, 4]) },
    }),
    'zeros left out': streamRequest({ callId: 0n, request: {} }),
    'no request': streamRequest({ callId: 5n }),
    'a negative epoch (ten-byte varint)': streamRequest({ callId: 1n, request: { topicId: 1, epoch: -1 } }),
  };
  for (const [name, wire] of Object.entries(cases)) {
    it(`reads ${name} as fromBinary does`, () => {
      expect(decodeAppendStreamRequest(wire)).toEqual(fromBinary(AppendStreamRequestSchema, wire));
    });
  }

  it('is what the lean server handlers consult for AppendStream calls', () => {
    expect(WIRE_DECODERS.get(AppendStreamRequestSchema.typeName)).toBe(decodeAppendStreamRequest);
  });

  it('leaves to fromBinary what it does not take', () => {
    const unpacked = streamRequest({ callId: 1n, request: { topicId: 1, records: [{ payload: Buffer.from('x') }] } });
    const request = toBinary(AppendRequestSchema, create(AppendRequestSchema, { topicId: 1 }));
    const unknownInner = Buffer.concat([Buffer.from([(2 << 3) | 2, request.length + 2]), request, Buffer.from([(9 << 3) | 0, 1])]);
    const truncated = Buffer.from(streamRequest({ callId: 1n, request: { recordsData: Buffer.alloc(10) } })).subarray(0, 8);
    for (const wire of [unpacked, unknownInner, truncated]) expect(decodeAppendStreamRequest(wire)).toBeUndefined();
  });
});

describe('encodeAppendAnswer', () => {
  for (const [callId, baseOffset] of [
    [3n, 41n],
    [0n, 0n],
    [300n, BigInt(Number.MAX_SAFE_INTEGER)],
  ] as const) {
    it(`writes call ${callId} at offset ${baseOffset} as toBinary does, and the message it stands for`, () => {
      const encoded = encodeAppendAnswer(callId, baseOffset)!;
      const reference = create(AppendStreamResponseSchema, { callId, outcome: { case: 'response', value: create(AppendResponseSchema, { baseOffset }) } });
      expect(Buffer.from(encoded.bytes).equals(Buffer.from(toBinary(AppendStreamResponseSchema, reference)))).toBe(true);
      expect(encoded.message).toEqual(reference);
    });
  }

  it('leaves to protobuf-es the numbers it does not write', () => {
    expect(encodeAppendAnswer(1n, 2n ** 60n)).toBeUndefined();
    expect(encodeAppendAnswer(2n ** 60n, 1n)).toBeUndefined();
  });
});

describe('decodeAppendResponse', () => {
  it('reads answers with and without duplicates as fromBinary does', () => {
    for (const init of [{ baseOffset: 99n }, {}, { baseOffset: 5n, duplicates: [{ index: 0, offset: 3n }, { index: 2, offset: 4n }] }]) {
      const wire = toBinary(AppendResponseSchema, create(AppendResponseSchema, init));
      expect(decodeAppendResponse(wire)).toEqual(fromBinary(AppendResponseSchema, wire));
    }
    expect(WIRE_DECODERS.get(AppendResponseSchema.typeName)).toBe(decodeAppendResponse);
  });

  it('leaves an unknown field to fromBinary', () => {
    expect(decodeAppendResponse(Buffer.from([(3 << 3) | 0, 5, (9 << 3) | 0, 1]))).toBeUndefined();
  });
});
