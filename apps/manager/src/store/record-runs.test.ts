import type { BatchRecord } from '@partq/proto';
import { recordRuns } from './record-runs.js';

const record = (offset: number, fields: Partial<BatchRecord> = {}): BatchRecord => ({
  offset,
  payload: new Uint8Array(1),
  key: undefined,
  producerId: 7,
  sequence: offset + 100,
  timestampMs: 1_764_000_000_000,
  ...fields,
});

describe('recordRuns', () => {
  test('one Append of one producer is one run', () => {
    expect(recordRuns([record(5), record(6), record(7)])).toEqual({
      firstIndex: [1],
      count: [3],
      firstOffset: [5],
      producerId: [7],
      firstSequence: [105],
      timestampMs: [1_764_000_000_000],
    });
  });

  test('a new run starts where the producer, timestamp, offset step or sequence step changes', () => {
    const records = [
      record(0),
      record(1),
      record(2, { producerId: 8 }), // another producer
      record(3, { producerId: 8 }),
      record(4, { producerId: 8, timestampMs: 1_764_000_000_001 }), // another Append
      record(5, { producerId: 8, timestampMs: 1_764_000_000_001, sequence: 200 }), // a sequence gap
      record(7, { producerId: 8, timestampMs: 1_764_000_000_001, sequence: 201 }), // an offset gap
      record(8, { producerId: 0, sequence: undefined }), // no producer, no sequence
      record(9, { producerId: 0, sequence: undefined }),
      record(10, { producerId: 0, sequence: 3 }), // a sequence after none
    ];
    const runs = recordRuns(records);
    expect(runs.firstIndex).toEqual([1, 3, 5, 6, 7, 8, 10]);
    expect(runs.count).toEqual([2, 2, 1, 1, 1, 2, 1]);
    expect(runs.firstOffset).toEqual([0, 2, 4, 5, 7, 8, 10]);
    expect(runs.producerId).toEqual([7, 8, 8, 8, 8, null, null]);
    expect(runs.firstSequence).toEqual([100, 102, 104, 200, 201, null, 3]);
  });

  test('every record is in exactly one run, and the runs give each record its fields back', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const records: BatchRecord[] = [];
    let offset = 0;
    let sequence = 0;
    for (let i = 0; i < 500; i++) {
      offset += random(10) === 0 ? 2 : 1;
      sequence += random(8) === 0 ? 3 : 1;
      records.push(record(offset, { producerId: random(3), sequence: random(5) === 0 ? undefined : sequence, timestampMs: 1000 + random(2) }));
    }
    const runs = recordRuns(records);
    const rebuilt: Pick<BatchRecord, 'offset' | 'producerId' | 'sequence' | 'timestampMs'>[] = [];
    runs.firstIndex.forEach((first, k) => {
      expect(first).toBe(rebuilt.length + 1);
      for (let i = 0; i < runs.count[k]!; i++) {
        const sequence = runs.firstSequence[k];
        rebuilt.push({ offset: runs.firstOffset[k]! + i, producerId: runs.producerId[k] ?? 0, sequence: sequence === null ? undefined : sequence! + i, timestampMs: runs.timestampMs[k]! });
      }
    });
    expect(rebuilt).toEqual(records.map(({ offset, producerId, sequence, timestampMs }) => ({ offset, producerId, sequence, timestampMs })));
  });

  test('no records, no runs', () => {
    expect(recordRuns([]).count).toEqual([]);
  });
});
