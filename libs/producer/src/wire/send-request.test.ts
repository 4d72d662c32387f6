import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Acks, SendRequestSchema } from '@partq/client-core';
import type { OutgoingMessage } from '../message.js';
import { encodeSendMessageBatch } from './send-message-batch.js';
import { encodeSendRequest, type SendTarget } from './send-request.js';

const bytes = (...values: number[]) => new Uint8Array(values);

/** What the producer sent before this encoder: protobuf-es over encodeSendMessageBatch. */
function reference(target: SendTarget, messages: readonly OutgoingMessage[]): Uint8Array {
  return toBinary(SendRequestSchema, create(SendRequestSchema, { ...target, messagesData: encodeSendMessageBatch(messages) }));
}

const messages: OutgoingMessage[] = [
  { payload: bytes(1, 2, 3), sequence: 0, partitionId: 2 },
  { payload: new Uint8Array(300).fill(7), key: bytes(9), sequence: 2 ** 40 },
];

describe('encodeSendRequest', () => {
  test.each<[string, SendTarget, OutgoingMessage[]]>([
    ['every field', { topic: 'orders', producerId: 70_000, acks: Acks.ALL }, messages],
    ['zeros and an empty topic left out, as proto3 does', { topic: '', producerId: 0, acks: Acks.UNSPECIFIED }, messages],
    ['a topic in UTF-8 and no messages', { topic: 'größe.ü', producerId: 1, acks: Acks.BROKER }, []],
    ['a large batch', { topic: 't', producerId: 3, acks: Acks.BROKER }, Array.from({ length: 200 }, (_, i) => ({ payload: new Uint8Array(1024).fill(i), sequence: i }))],
  ])('writes the bytes protobuf-es writes: %s', (_name, target, list) => {
    const { bytes: encoded } = encodeSendRequest(target, list);
    const expected = Buffer.from(reference(target, list));
    expect(encoded.byteLength).toBe(expected.byteLength);
    expect(Buffer.from(encoded).equals(expected)).toBe(true);
  });

  test('gives the same request as a message, its messages_data a view into the one buffer', () => {
    const { bytes: encoded, request } = encodeSendRequest({ topic: 'orders', producerId: 5, acks: Acks.BROKER }, messages);
    expect(request).toEqual(fromBinary(SendRequestSchema, encoded));
    expect(request.messagesData.buffer).toBe(encoded.buffer);
  });

  test('refuses a negative producer id', () => {
    expect(() => encodeSendRequest({ topic: 't', producerId: -1, acks: Acks.BROKER }, messages)).toThrow(RangeError);
  });
});
