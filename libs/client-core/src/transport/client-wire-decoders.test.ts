import { create, toBinary } from '@bufbuild/protobuf';
import { ConsumerServiceConsumeResponseSchema, SendResponseSchema } from '../gen/partq/v1/client_pb.js';
import { ConsumedMessageSchema } from '../gen/partq/v1/replica_pb.js';
import { CLIENT_WIRE_DECODERS } from './client-wire-decoders.js';

const decode = CLIENT_WIRE_DECODERS.get(ConsumerServiceConsumeResponseSchema.typeName)!;

it('reads a delivery by hand into what fromBinary gives', () => {
  const response = create(ConsumerServiceConsumeResponseSchema, {
    messages: [
      { partitionId: 0, offset: 0n, payload: new Uint8Array(0), timestampMs: 0n },
      { partitionId: 2, offset: 41n, payload: Buffer.from('hello'), key: Buffer.from('k'), timestampMs: 1_764_000_000_000n },
      { partitionId: 2, offset: 2n ** 40n, payload: Buffer.alloc(1024, 7), key: new Uint8Array(0), timestampMs: 5n },
    ],
  });
  const decoded = decode(toBinary(ConsumerServiceConsumeResponseSchema, response));
  expect(decoded).toEqual(response);
  // A heartbeat: no messages.
  expect(decode(new Uint8Array(0))).toEqual(create(ConsumerServiceConsumeResponseSchema, {}));
});

it('leaves to fromBinary what it does not take: an unknown field', () => {
  const message = toBinary(ConsumedMessageSchema, create(ConsumedMessageSchema, { partitionId: 1, offset: 3n, payload: Buffer.from('x') }));
  // Field 9 (varint 1) after the known fields of the message.
  const withUnknown = Buffer.concat([Buffer.from(message), Buffer.from([9 << 3, 1])]);
  const bytes = Buffer.concat([Buffer.from([(1 << 3) | 2, withUnknown.length]), withUnknown]);
  expect(decode(bytes)).toBeUndefined();
});

it("reads a producer's send answer by hand into what fromBinary gives", () => {
  const answer = create(SendResponseSchema, { partitionIds: [0, 1, 1], offsets: [7n, 300n, 301n], duplicateIndexes: [2] });
  const wire = toBinary(SendResponseSchema, answer);
  expect(CLIENT_WIRE_DECODERS.get(SendResponseSchema.typeName)!(wire)).toEqual(answer);
});
