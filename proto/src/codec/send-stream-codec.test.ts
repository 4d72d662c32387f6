import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { SendRequestSchema, SendResponseSchema, SendStreamRequestSchema, SendStreamResponseSchema } from '../gen/partq/v1/client_pb.js';
import { Acks } from '../gen/partq/v1/types_pb.js';
import { decodeSendResponse, decodeSendStreamRequest, encodePackedSendAnswer, type PackedSendAnswer } from './send-stream-codec.js';
import { WIRE_DECODERS } from './wire-decoders.js';

const streamRequest = (init: Parameters<typeof create<typeof SendStreamRequestSchema>>[1]) => toBinary(SendStreamRequestSchema, create(SendStreamRequestSchema, init));

describe('decodeSendStreamRequest', () => {
  const cases: Record<string, Uint8Array> = {
    'a producer call': streamRequest({
      callId: 7n,
      request: { topic: 'orders', producerId: 12, acks: Acks.ALL, messagesData: Buffer.from([10, 3, 1, 2, 3]) },
    }),
    'zeros left out: call id 0, an empty request': streamRequest({ callId: 0n, request: {} }),
    'no request at all': streamRequest({ callId: 3n }),
    'a topic in UTF-8, the largest safe call id, a negative producer id': streamRequest({
      callId: BigInt(Number.MAX_SAFE_INTEGER),
      request: { topic: 'tópico-ü', producerId: -5, acks: Acks.BROKER },
    }),
  };
  for (const [name, wire] of Object.entries(cases)) {
    it(`reads ${name} as fromBinary does`, () => {
      expect(decodeSendStreamRequest(wire)).toEqual(fromBinary(SendStreamRequestSchema, wire));
    });
  }

  it('is what the lean server handlers consult for SendStream calls', () => {
    expect(WIRE_DECODERS.get(SendStreamRequestSchema.typeName)).toBe(decodeSendStreamRequest);
  });

  it('leaves to fromBinary what it does not take', () => {
    const unpacked = streamRequest({ callId: 1n, request: { topic: 't', messages: [{ payload: Buffer.from('x') }] } });
    const unknownOuter = Buffer.concat([Buffer.from(streamRequest({ callId: 1n })), Buffer.from([(9 << 3) | 0, 1])]);
    const request = toBinary(SendRequestSchema, create(SendRequestSchema, { topic: 't' }));
    const twice = Buffer.concat([Buffer.from([(2 << 3) | 2, request.length]), request, Buffer.from([(2 << 3) | 2, request.length]), request]);
    // call_id 2^60: a varint of nine bytes.
    const hugeCallId = Buffer.from([8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    const truncated = Buffer.from(streamRequest({ callId: 1n, request: { topic: 'orders' } })).subarray(0, 6);
    for (const wire of [unpacked, unknownOuter, twice, hugeCallId, truncated]) expect(decodeSendStreamRequest(wire)).toBeUndefined();
  });
});

describe('encodePackedSendAnswer', () => {
  const cases: Record<string, PackedSendAnswer> = {
    'a batch with a duplicate': { callId: 9n, partitionIds: [2, 2, 0], offsets: [41n, 42n, 0n], duplicateIndexes: [1] },
    'call id 0 and empty lists left out': { callId: 0n, partitionIds: [], offsets: [], duplicateIndexes: [] },
    'multi-byte varints': { callId: 300n, partitionIds: [127, 128, 16_384], offsets: [BigInt(Number.MAX_SAFE_INTEGER)], duplicateIndexes: [] },
  };
  for (const [name, answer] of Object.entries(cases)) {
    it(`writes ${name} as toBinary does, and the message it stands for`, () => {
      const encoded = encodePackedSendAnswer(answer)!;
      const reference = create(SendStreamResponseSchema, {
        callId: answer.callId,
        outcome: { case: 'response', value: create(SendResponseSchema, { partitionIds: [...answer.partitionIds], offsets: [...answer.offsets], duplicateIndexes: [...answer.duplicateIndexes] }) },
      });
      expect(Buffer.from(encoded.bytes).equals(Buffer.from(toBinary(SendStreamResponseSchema, reference)))).toBe(true);
      expect(encoded.message).toEqual(reference);
    });
  }

  it('leaves to protobuf-es the numbers it does not write: negative or unsafe ones', () => {
    const base: PackedSendAnswer = { callId: 1n, partitionIds: [0], offsets: [0n], duplicateIndexes: [] };
    expect(encodePackedSendAnswer({ ...base, offsets: [2n ** 60n] })).toBeUndefined();
    expect(encodePackedSendAnswer({ ...base, callId: -1n })).toBeUndefined();
    expect(encodePackedSendAnswer({ ...base, partitionIds: [-1] })).toBeUndefined();
    expect(encodePackedSendAnswer({ ...base, duplicateIndexes: [2 ** 31] })).toBeUndefined();
  });
});

describe('decodeSendResponse', () => {
  it('reads packed answers as fromBinary does', () => {
    for (const init of [
      { partitionIds: [2, 2, 0], offsets: [41n, 42n, 0n], duplicateIndexes: [1] },
      {},
      { partitionIds: [16_384], offsets: [BigInt(Number.MAX_SAFE_INTEGER)] },
    ]) {
      const wire = toBinary(SendResponseSchema, create(SendResponseSchema, init));
      expect(decodeSendResponse(wire)).toEqual(fromBinary(SendResponseSchema, wire));
    }
  });

  it('takes repeated fields unpacked too, as a protobuf reader must', () => {
    // partition_ids 3 and offsets 7, 8, each as a field of its own.
    const wire = Buffer.from([(2 << 3) | 0, 3, (3 << 3) | 0, 7, (3 << 3) | 0, 8]);
    expect(decodeSendResponse(wire)).toEqual(fromBinary(SendResponseSchema, wire));
  });

  it('leaves to fromBinary what it does not take', () => {
    const withResults = toBinary(SendResponseSchema, create(SendResponseSchema, { results: [{ partitionId: 1, offset: 2n }] }));
    const negativeOffset = toBinary(SendResponseSchema, create(SendResponseSchema, { offsets: [-1n] }));
    const unknown = Buffer.from([(9 << 3) | 0, 1]);
    for (const wire of [withResults, negativeOffset, unknown]) expect(decodeSendResponse(wire)).toBeUndefined();
  });
});
