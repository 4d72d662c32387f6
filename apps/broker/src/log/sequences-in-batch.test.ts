import type { RecordFields } from '@partq/proto';
import { SequencesInBatch } from './sequences-in-batch.js';

/** Takes records as PartitionLog.append does: a repeat of a sequence taken earlier is not taken again. */
function take(records: { producerId: number; sequence?: number }[]): (number | string)[] {
  const inBatch = new SequencesInBatch();
  const fresh: RecordFields[] = [];
  return records.map((r) => {
    const record: RecordFields = { producerId: r.producerId, payload: new Uint8Array(0), ...(r.sequence === undefined ? {} : { sequence: BigInt(r.sequence) }) };
    if (r.sequence !== undefined) {
      const earlier = inBatch.indexOf(r.producerId, r.sequence, fresh);
      if (earlier !== undefined) return `repeat of ${earlier}`;
    }
    const index = fresh.push(record) - 1;
    if (r.sequence !== undefined) inBatch.add(r.producerId, r.sequence, index);
    return index;
  });
}

describe('SequencesInBatch', () => {
  it('takes ascending sequences of one producer, and finds a repeat after them', () => {
    expect(take([1, 2, 3, 2, 4, 1].map((sequence) => ({ producerId: 7, sequence })))).toEqual([0, 1, 2, 'repeat of 1', 3, 'repeat of 0']);
  });

  it('keeps producers apart, interleaved, with records without a sequence between them', () => {
    expect(
      take([
        { producerId: 1, sequence: 5 },
        { producerId: 2, sequence: 5 },
        { producerId: 1 },
        { producerId: 1, sequence: 6 },
        { producerId: 2, sequence: 4 },
        { producerId: 2, sequence: 5 },
        { producerId: 1, sequence: 5 },
        { producerId: 2, sequence: 4 },
      ]),
    ).toEqual([0, 1, 2, 3, 4, 'repeat of 1', 'repeat of 0', 'repeat of 4']);
  });

  it('answers as a Map of every sequence would, on random requests', () => {
    let seed = 5;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let request = 0; request < 300; request++) {
      const records = Array.from({ length: 1 + random(40) }, () => ({ producerId: random(3), sequence: random(10) === 0 ? undefined : random(30) }));
      const seen = new Map<string, number>();
      let taken = 0;
      const expected = records.map((r) => {
        const key = `${r.producerId}/${r.sequence}`;
        if (r.sequence !== undefined && seen.has(key)) return `repeat of ${seen.get(key)}`;
        if (r.sequence !== undefined) seen.set(key, taken);
        return taken++;
      });
      expect(take(records)).toEqual(expected);
    }
  });
});
