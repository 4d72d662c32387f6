import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ConsumerServiceConsumeResponseSchema, ConsumeStreamResponseSchema } from '@partq/proto';
import { wireBytesOf, withWireBytes } from '@partq/runtime';
import { relayedDelivery } from './relayed-delivery.js';

/** A replica's delivery; a new object each time (wire bytes stay with the object they mark). */
const newDelivery = () =>
  create(ConsumeStreamResponseSchema, {
    messages: [
      { partitionId: 2, offset: 41n, payload: Buffer.from('a'), key: Buffer.from('k'), timestampMs: 1_764_000_000_000n },
      { partitionId: 2, offset: 42n, payload: Buffer.alloc(300, 7), timestampMs: 1_764_000_000_001n },
    ],
  });

it('keeps the two answers the same on the wire: the same fields, numbers and types', () => {
  const shape = (schema: typeof ConsumeStreamResponseSchema | typeof ConsumerServiceConsumeResponseSchema) =>
    schema.fields.map((field) => [field.number, field.name, field.fieldKind, field.fieldKind === 'list' ? field.listKind : '', field.message?.typeName ?? '']);
  expect(shape(ConsumerServiceConsumeResponseSchema)).toEqual(shape(ConsumeStreamResponseSchema));
});

it("relays the replica's bytes as they are, as the client's answer", () => {
  const delivery = newDelivery();
  const bytes = toBinary(ConsumeStreamResponseSchema, delivery);
  const relayed = relayedDelivery(withWireBytes(delivery, bytes));
  expect(relayed.$typeName).toBe(ConsumerServiceConsumeResponseSchema.typeName);
  expect(wireBytesOf(relayed)).toBe(bytes);
  // What the client decodes from those bytes is the same messages.
  expect(fromBinary(ConsumerServiceConsumeResponseSchema, bytes).messages).toEqual(relayed.messages);
  expect(Buffer.from(toBinary(ConsumerServiceConsumeResponseSchema, relayed)).equals(Buffer.from(bytes))).toBe(true);
});

it('answers with the messages alone when the delivery came without its bytes', () => {
  const delivery = newDelivery();
  const relayed = relayedDelivery(delivery);
  expect(wireBytesOf(relayed)).toBeUndefined();
  expect(relayed.messages).toEqual(delivery.messages);
});
