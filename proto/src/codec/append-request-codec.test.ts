import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AppendRequestSchema } from '../gen/partq/v1/broker_pb.js';
import { Acks } from '../gen/partq/v1/types_pb.js';
import { decodeAppendRecordBatch, encodeAppendRecordBatch } from './append-record-batch-codec.js';
import { encodeAppendRequest, type AppendTarget } from './append-request-codec.js';
import type { RecordFields } from './record-codec.js';
import { bytes } from '../../test/wire-test-helpers.js';

const records: RecordFields[] = [
  { payload: bytes(1, 2, 3), key: bytes(9), producerId: 7, sequence: 42n },
  { payload: new Uint8Array(300).fill(5), producerId: 300, sequence: 2 ** 40 },
  { payload: bytes(), producerId: 0 },
];

/** What the gateway sent before this codec: protobuf-es over encodeAppendRecordBatch. */
function reference(target: AppendTarget, list: readonly RecordFields[]): Uint8Array {
  return toBinary(AppendRequestSchema, create(AppendRequestSchema, { ...target, recordsData: encodeAppendRecordBatch(list) }));
}

describe('encodeAppendRequest', () => {
  const cases: [string, AppendTarget, RecordFields[]][] = [
    ['records and every field set', { topicId: 3, partitionId: 1, epoch: 70_000, acks: Acks.ALL }, records],
    ['zeros left out, as proto3 does', { topicId: 0, partitionId: 0, epoch: 0, acks: Acks.UNSPECIFIED }, records],
    ['no records', { topicId: 1, partitionId: 2, epoch: 3, acks: Acks.BROKER }, []],
    ['a large record', { topicId: 1, partitionId: 2, epoch: 3, acks: Acks.BROKER }, [{ payload: new Uint8Array(200_000).fill(7), producerId: 1, sequence: 5 }]],
  ];

  test.each(cases)('writes the bytes protobuf-es writes: %s', (_name, target, list) => {
    const { bytes: encoded } = encodeAppendRequest(target, list);
    const expected = Buffer.from(reference(target, list));
    expect(encoded.byteLength).toBe(expected.byteLength);
    expect(Buffer.from(encoded).equals(expected)).toBe(true);
  });

  test('gives the same request as a message, its records_data a view into the one buffer', () => {
    const { bytes: encoded, request } = encodeAppendRequest({ topicId: 3, partitionId: 1, epoch: 2, acks: Acks.BROKER }, records);
    expect(request).toEqual(fromBinary(AppendRequestSchema, encoded));
    expect(request.recordsData.buffer).toBe(encoded.buffer);
    expect(decodeAppendRecordBatch(request.recordsData).map((r) => r.sequence)).toEqual([42, 2 ** 40, undefined]);
  });

  test('refuses a negative id or epoch', () => {
    expect(() => encodeAppendRequest({ topicId: -1, partitionId: 0, epoch: 1, acks: Acks.BROKER }, records)).toThrow(RangeError);
  });
});
