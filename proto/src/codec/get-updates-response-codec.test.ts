import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { GetUpdatesResponseSchema } from '../gen/partq/v1/broker_pb.js';
import { encodeGetUpdatesResponse, type PartitionUpdate } from './get-updates-response-codec.js';
import { decodeRecordBatch, encodeRecordBatch } from './record-batch-codec.js';
import { encodeRecords } from './record-codec.js';
import { bytes } from '../../test/wire-test-helpers.js';

const stored = encodeRecords(
  [
    { payload: bytes(1, 2, 3), key: bytes(9), producerId: 7, sequence: 42n },
    { payload: new Uint8Array(300).fill(5), producerId: 300, sequence: 2 ** 40 },
  ],
  2 ** 35,
  1_764_000_000_000,
);

/** What the broker answered before this codec: protobuf-es over encodeRecordBatch. */
function reference(updates: readonly PartitionUpdate[], fromDataRead: boolean): Uint8Array {
  const partitions = updates.map((u) => ({ topicId: u.topicId, partitionId: u.partitionId, epoch: u.epoch, recordsData: encodeRecordBatch(u.records) }));
  return toBinary(GetUpdatesResponseSchema, create(GetUpdatesResponseSchema, { partitions, fromDataRead }));
}

describe('encodeGetUpdatesResponse', () => {
  const cases: Record<string, PartitionUpdate[]> = {
    'several partitions with records': [
      { topicId: 3, partitionId: 0, epoch: 2, records: stored },
      { topicId: 300, partitionId: 17, epoch: 70_000, records: [stored[1]!] },
    ],
    'a partition without records and zero ids (proto3 leaves zeros out)': [
      { topicId: 0, partitionId: 0, epoch: 0, records: [] },
      { topicId: 1, partitionId: 0, epoch: 1, records: stored },
    ],
    'no partitions': [],
    'a large record (multi-byte lengths at every level)': [{ topicId: 1, partitionId: 2, epoch: 3, records: encodeRecords([{ payload: new Uint8Array(200_000).fill(7), producerId: 1 }], 0, 1) }],
    'a negative id (written by protobuf-es)': [{ topicId: -1, partitionId: 2, epoch: 3, records: stored }],
  };

  test.each(Object.entries(cases).flatMap(([name, updates]) => [false, true].map((read) => [name, read, updates] as const)))(
    'writes the bytes protobuf-es writes: %s, from_data_read %s',
    (_name, fromDataRead, updates) => {
      const { bytes: encoded, response } = encodeGetUpdatesResponse(updates, fromDataRead);
      const expected = Buffer.from(reference(updates, fromDataRead));
      expect(Buffer.from(encoded).equals(expected)).toBe(true);
      expect(encoded.byteLength).toBe(expected.byteLength);
      expect(response.fromDataRead).toBe(fromDataRead);
    },
  );

  test('answers the same response as a message, its records_data views into the one buffer', () => {
    const updates = cases['several partitions with records']!;
    const { bytes: encoded, response } = encodeGetUpdatesResponse(updates);
    expect(response).toEqual(fromBinary(GetUpdatesResponseSchema, encoded));
    expect(response.partitions[0]!.recordsData.buffer).toBe(encoded.buffer);
    expect(decodeRecordBatch(response.partitions[0]!.recordsData).map((r) => r.sequence)).toEqual([42, 2 ** 40]);
  });
});
