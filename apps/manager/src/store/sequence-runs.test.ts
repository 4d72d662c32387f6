import { create, toBinary } from '@bufbuild/protobuf';
import { indexRecordBatch, RecordBatchSchema, RecordSchema } from '@partq/proto';
import { sequenceRunsOf } from './sequence-runs.js';

/** An indexed batch of records from offset 100 on, each [producerId, sequence] or without a sequence. */
function indexOf(records: readonly ([number, number] | undefined)[]) {
  const batch = create(RecordBatchSchema, {
    records: records.map((r, i) => create(RecordSchema, { offset: BigInt(100 + i), payload: Buffer.from('x'), producerId: r?.[0] ?? 0, sequence: r === undefined ? undefined : BigInt(r[1]) })),
  });
  return indexRecordBatch(toBinary(RecordBatchSchema, batch));
}

describe('sequenceRunsOf', () => {
  test('joins a producer’s consecutive sequences on consecutive offsets; anything else starts a run', () => {
    const index = indexOf([[1, 5], [1, 6], [1, 7], [2, 0], [1, 8], undefined, [1, 9], [1, 11], [3, 2 ** 40], [3, 2 ** 40 + 1]]);
    expect(sequenceRunsOf(index, 0, 9)).toEqual([
      { producerId: 1, firstSequence: 5, firstOffset: 100, count: 3 },
      { producerId: 2, firstSequence: 0, firstOffset: 103, count: 1 },
      { producerId: 1, firstSequence: 8, firstOffset: 104, count: 1 },
      // A record without a sequence between 8 and 9 ends the run.
      { producerId: 1, firstSequence: 9, firstOffset: 106, count: 1 },
      { producerId: 1, firstSequence: 11, firstOffset: 107, count: 1 },
      { producerId: 3, firstSequence: 2 ** 40, firstOffset: 108, count: 2 },
    ]);
    expect(sequenceRunsOf(index, 1, 2)).toEqual([{ producerId: 1, firstSequence: 6, firstOffset: 101, count: 2 }]);
    expect(sequenceRunsOf(index, 5, 5)).toEqual([]);
  });
});
