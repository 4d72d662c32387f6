import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { SendMessageBatchSchema } from '../gen/partq/v1/client_pb.js';
import { decodeSendMessageBatch } from './send-message-batch-codec.js';
import { bytes, wireFailure } from '../../test/wire-test-helpers.js';


describe('decodeSendMessageBatch', () => {
  test('reads what protobuf-es writes: every field, absent ones left out, payloads as views', () => {
    const data = toBinary(
      SendMessageBatchSchema,
      create(SendMessageBatchSchema, {
        messages: [
          { payload: bytes(1, 2), key: bytes(3), partitionId: 2, sequence: 99n, previousSequence: 97n },
          { payload: bytes() },
          { payload: new Uint8Array(200).fill(1), key: bytes(), partitionId: 0, sequence: 0n },
        ],
      }),
    );
    const decoded = decodeSendMessageBatch(data);
    expect(decoded).toEqual([
      { payload: bytes(1, 2), key: bytes(3), partitionId: 2, sequence: 99n, previousSequence: 97n },
      { payload: bytes() },
      { payload: new Uint8Array(200).fill(1), key: bytes(), partitionId: 0, sequence: 0n },
    ]);
    expect(decoded).toEqual(fromBinary(SendMessageBatchSchema, data).messages.map(({ $typeName: _, ...message }) => message));
    expect(decoded[0]!.payload.buffer).toBe(data.buffer);
  });

  test.each([
    ['a truncated message', bytes(0x0a, 4, 0x0a)],
    ['a length past the message', bytes(0x0a, 2, 0x0a, 5)],
    ['a known field with the wrong wire type', bytes(0x0a, 2, 0x18 | 2, 0)],
    ['a truncated varint', bytes(0x0a, 2, 0x20, 0x80)],
  ])('refuses %s as MALFORMED', (_name, data) => {
    expect(wireFailure(() => decodeSendMessageBatch(data)).code).toBe('MALFORMED');
  });

  test('refuses a negative previous sequence as OUT_OF_RANGE', () => {
    const data = toBinary(SendMessageBatchSchema, create(SendMessageBatchSchema, { messages: [{ payload: bytes(1), sequence: 1n, previousSequence: -1n }] }));
    expect(wireFailure(() => decodeSendMessageBatch(data)).code).toBe('OUT_OF_RANGE');
  });

  test('refuses a negative sequence as OUT_OF_RANGE', () => {
    const data = toBinary(SendMessageBatchSchema, create(SendMessageBatchSchema, { messages: [{ payload: bytes(1), sequence: -1n }] }));
    expect(wireFailure(() => decodeSendMessageBatch(data)).code).toBe('OUT_OF_RANGE');
  });
});
