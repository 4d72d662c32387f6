import { create, toBinary } from '@bufbuild/protobuf';
import { SendMessageBatchSchema } from '@partq/client-core';
import { encodeSendMessageBatch, type SequencedMessage } from './send-message-batch.js';

const bytes = (...values: number[]) => new Uint8Array(values);

function reference(messages: readonly SequencedMessage[]): Uint8Array {
  return toBinary(SendMessageBatchSchema, create(SendMessageBatchSchema, { messages: [...messages] }));
}

describe('encodeSendMessageBatch', () => {
  test.each<[string, SequencedMessage[]]>([
    ['payload only', [{ payload: bytes(1, 2, 3) }]],
    ['empty payload, empty key', [{ payload: bytes(), key: bytes() }]],
    ['every field, multi-byte lengths and varints', [{ payload: new Uint8Array(300).fill(7), key: bytes(9), partitionId: 200, sequence: 2n ** 40n }]],
    ['zero partition and sequence are written (they are optional fields)', [{ payload: bytes(1), partitionId: 0, sequence: 0n }]],
    ['largest values', [{ payload: bytes(1), partitionId: 0x7fffffff, sequence: BigInt(Number.MAX_SAFE_INTEGER) }]],
    ['several messages', [{ payload: bytes(1), sequence: 5n }, { payload: bytes(2, 2), key: bytes(3) }, { payload: bytes(), partitionId: 1 }]],
    ['none', []],
  ])('writes the bytes toBinary writes: %s', (_name, messages) => {
    expect(Buffer.from(encodeSendMessageBatch(messages))).toEqual(Buffer.from(reference(messages)));
  });

  test('refuses sequences the gateway cannot read exactly', () => {
    expect(() => encodeSendMessageBatch([{ payload: bytes(1), sequence: -1n }])).toThrow(RangeError);
    expect(() => encodeSendMessageBatch([{ payload: bytes(1), sequence: 2n ** 60n }])).toThrow(RangeError);
  });
});
