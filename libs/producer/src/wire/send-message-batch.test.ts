import { create, toBinary } from '@bufbuild/protobuf';
import { SendMessageBatchSchema } from '@partq/client-core';
import type { OutgoingMessage } from '../message.js';
import { encodeSendMessageBatch } from './send-message-batch.js';

const bytes = (...values: number[]) => new Uint8Array(values);

/** protobuf-es's bytes for the same messages (its int64 fields take bigints). */
function reference(messages: readonly OutgoingMessage[]): Uint8Array {
  const asProto = messages.map(({ sequence, previousSequence, ...rest }) => ({
    ...rest,
    ...(sequence === undefined ? {} : { sequence: BigInt(sequence) }),
    ...(previousSequence === undefined ? {} : { previousSequence: BigInt(previousSequence) }),
  }));
  return toBinary(SendMessageBatchSchema, create(SendMessageBatchSchema, { messages: asProto }));
}

describe('encodeSendMessageBatch', () => {
  test.each<[string, OutgoingMessage[]]>([
    ['payload only', [{ payload: bytes(1, 2, 3) }]],
    ['empty payload, empty key', [{ payload: bytes(), key: bytes() }]],
    ['every field, multi-byte lengths and varints', [{ payload: new Uint8Array(300).fill(7), key: bytes(9), partitionId: 200, sequence: 2 ** 40 }]],
    ['zero partition and sequence are written (they are optional fields)', [{ payload: bytes(1), partitionId: 0, sequence: 0 }]],
    ['largest values', [{ payload: bytes(1), partitionId: 0x7fffffff, sequence: Number.MAX_SAFE_INTEGER }]],
    ['several messages', [{ payload: bytes(1), sequence: 5 }, { payload: bytes(2, 2), key: bytes(3) }, { payload: bytes(), partitionId: 1 }]],
    ['a previous sequence, zero and large', [{ payload: bytes(1), partitionId: 2, sequence: 7, previousSequence: 0 }, { payload: bytes(2), sequence: 2 ** 40 + 1, previousSequence: 2 ** 40 }]],
    ['none', []],
  ])('writes the bytes toBinary writes: %s', (_name, messages) => {
    expect(Buffer.from(encodeSendMessageBatch(messages))).toEqual(Buffer.from(reference(messages)));
  });

  test('refuses sequences the gateway cannot read exactly', () => {
    expect(() => encodeSendMessageBatch([{ payload: bytes(1), sequence: -1 }])).toThrow(RangeError);
    expect(() => encodeSendMessageBatch([{ payload: bytes(1), sequence: 2 ** 60 }])).toThrow(RangeError);
    expect(() => encodeSendMessageBatch([{ payload: bytes(1), sequence: 1.5 }])).toThrow(RangeError);
    expect(() => encodeSendMessageBatch([{ payload: bytes(1), sequence: 1, previousSequence: -1 }])).toThrow(RangeError);
  });
});
