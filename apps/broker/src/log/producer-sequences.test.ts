import { ProducerSequences, type SequenceCheck } from './producer-sequences.js';

describe('ProducerSequences', () => {
  it('returns the original offset of a sequence seen before', () => {
    const index = new ProducerSequences(4);
    index.remember(1, 10, 100);
    index.remember(1, 11, 101);
    expect(index.check(1, 10)).toEqual({ kind: 'duplicate', offset: 100 });
    expect(index.check(1, 12)).toEqual({ kind: 'new' });
    expect(index.check(2, 10)).toEqual({ kind: 'new' });
    expect(index.highestSequence(1)).toBe(11);
  });

  it('refuses sequences below the window once older ones were evicted, accepts gaps above it', () => {
    const index = new ProducerSequences(2);
    index.remember(1, 0, 0);
    index.remember(1, 1, 1);
    index.remember(1, 2, 2); // evicts 0
    expect(index.check(1, 0)).toEqual({ kind: 'too-old', lowestKnown: 1, highest: 2 });
    expect(index.check(1, 1)).toEqual({ kind: 'duplicate', offset: 1 });
    expect(index.check(1, 9)).toEqual({ kind: 'new' });
  });

  it('after recovery, the lowest replayed sequence is the floor (anything older may have been trimmed)', () => {
    const index = new ProducerSequences();
    index.remember(3, 50, 7, true);
    index.remember(3, 51, 8, true);
    expect(index.check(3, 49).kind).toBe('too-old');
    expect(index.check(3, 51)).toEqual({ kind: 'duplicate', offset: 8 });
    expect(index.check(3, 52)).toEqual({ kind: 'new' });
  });

  it('accepts any first sequence of a producer it never saw', () => {
    const index = new ProducerSequences();
    index.remember(4, 5, 0);
    expect(index.check(4, 2)).toEqual({ kind: 'new' });
  });

  it('keeps exactly the last windowSize sequences, in the order they were remembered, across many evictions', () => {
    const index = new ProducerSequences(3);
    // Out of order, as concurrent batches land: eviction follows arrival, not sequence value.
    const arrivals = [5, 3, 4, 9, 7, 8, 6, 12, 10, 11];
    arrivals.forEach((sequence, offset) => index.remember(1, sequence, offset));
    for (let round = 0; round < 5000; round++) index.remember(2, round, round);
    expect(arrivals.map((s) => index.check(1, s).kind)).toEqual(['too-old', 'too-old', 'too-old', 'too-old', 'too-old', 'too-old', 'too-old', 'duplicate', 'duplicate', 'duplicate']);
    expect(index.check(1, 12)).toEqual({ kind: 'duplicate', offset: 7 });
    expect(index.check(2, 4996)).toEqual({ kind: 'too-old', lowestKnown: 4997, highest: 4999 });
    expect([4997, 4998, 4999].map((s) => index.check(2, s))).toEqual([
      { kind: 'duplicate', offset: 4997 },
      { kind: 'duplicate', offset: 4998 },
      { kind: 'duplicate', offset: 4999 },
    ]);
  });

  it('remembers a batch of consecutive sequences and offsets, and splits it when one of them is remembered again', () => {
    const index = new ProducerSequences(5);
    for (let i = 0; i < 5; i++) index.remember(1, 100 + i, 20 + i);
    index.remember(1, 102, 90);
    expect([100, 101, 102, 103, 104].map((s) => index.check(1, s))).toEqual([20, 21, 90, 23, 24].map((offset) => ({ kind: 'duplicate', offset })));
    // Eviction still follows the order of arrival: 100 and 101 go first, then the re-remembered 102 in its old place.
    index.remember(1, 105, 25);
    index.remember(1, 106, 26);
    index.remember(1, 107, 27);
    expect(index.check(1, 102)).toEqual({ kind: 'too-old', lowestKnown: 103, highest: 107 });
    expect(index.check(1, 103)).toEqual({ kind: 'duplicate', offset: 23 });
  });

  it('finds sequences that filled a gap after higher ones landed', () => {
    const index = new ProducerSequences(100);
    const batch = (from: number, count: number, offset: number) => {
      for (let i = 0; i < count; i++) index.remember(1, from + i, offset + i);
    };
    batch(10, 10, 0);
    batch(30, 10, 10);
    batch(20, 5, 20); // late: below the highest, between the two runs before it
    expect([12, 22, 24, 25, 35].map((s) => index.check(1, s))).toEqual([
      { kind: 'duplicate', offset: 2 },
      { kind: 'duplicate', offset: 22 },
      { kind: 'duplicate', offset: 24 },
      { kind: 'new' },
      { kind: 'duplicate', offset: 15 },
    ]);
  });

  it('runsWithin gives each producer’s remembered runs within offsets, cut at both ends; rememberRun reads them back as recovered', () => {
    const index = new ProducerSequences(8);
    for (let i = 0; i < 4; i++) index.remember(1, 10 + i, 100 + i); // one run: sequences 10-13 at 100-103
    index.remember(2, 0, 104);
    index.remember(1, 20, 105);
    expect(index.runsWithin(0, 102)).toEqual([{ producerId: 1, firstSequence: 10, firstOffset: 100, count: 2 }]);
    expect(index.runsWithin(101, 103)).toEqual([{ producerId: 1, firstSequence: 11, firstOffset: 101, count: 2 }]);
    expect(index.runsWithin(104, 105)).toEqual([{ producerId: 2, firstSequence: 0, firstOffset: 104, count: 1 }]);
    const runs = index.runsWithin(0, 106);
    expect(runs).toEqual([
      { producerId: 1, firstSequence: 10, firstOffset: 100, count: 4 },
      { producerId: 1, firstSequence: 20, firstOffset: 105, count: 1 },
      { producerId: 2, firstSequence: 0, firstOffset: 104, count: 1 },
    ]);
    const restored = new ProducerSequences(8);
    for (const run of runs) restored.rememberRun(run);
    expect(restored.check(1, 12)).toEqual({ kind: 'duplicate', offset: 102 });
    expect(restored.check(2, 0)).toEqual({ kind: 'duplicate', offset: 104 });
    // Restored as recovered: the lowest sequence is the floor, anything older may be a forgotten retry.
    expect(restored.check(1, 9)).toMatchObject({ kind: 'too-old' });
    expect(restored.check(1, 21)).toEqual({ kind: 'new' });
  });

  it('refuses a window of no sequences', () => {
    expect(() => new ProducerSequences(0)).toThrow(RangeError);
  });

  it('remembering a sequence again updates its offset without counting it twice', () => {
    const index = new ProducerSequences(2);
    index.remember(1, 1, 10);
    index.remember(1, 1, 11);
    index.remember(1, 2, 12);
    expect(index.check(1, 1)).toEqual({ kind: 'duplicate', offset: 11 });
    expect(index.check(1, 2)).toEqual({ kind: 'duplicate', offset: 12 });
  });
});

/** The same numbers on every run: a failure can be replayed. */
function seededRandom(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
}

describe('ProducerSequences against a plain model', () => {
  /** The documented behaviour, done the slow way: a list of remembered (sequence, offset) per producer. */
  class Model {
    private readonly producers = new Map<number, { entries: { sequence: number; offset: number }[]; floor: number; highest: number }>();
    constructor(private readonly windowSize: number) {}

    check(producerId: number, sequence: number): SequenceCheck {
      const p = this.producers.get(producerId);
      const hit = p?.entries.find((e) => e.sequence === sequence);
      if (hit) return { kind: 'duplicate', offset: hit.offset };
      if (p && sequence < p.floor) return { kind: 'too-old', lowestKnown: p.floor, highest: p.highest };
      return { kind: 'new' };
    }

    remember(producerId: number, sequence: number, offset: number): void {
      let p = this.producers.get(producerId);
      if (!p) this.producers.set(producerId, (p = { entries: [], floor: Number.NEGATIVE_INFINITY, highest: sequence }));
      const hit = p.entries.find((e) => e.sequence === sequence);
      if (hit) hit.offset = offset;
      else p.entries.push({ sequence, offset });
      p.highest = Math.max(p.highest, sequence);
      while (p.entries.length > this.windowSize) p.floor = Math.max(p.floor, p.entries.shift()!.sequence + 1);
    }
  }

  it('answers as the model does with whole batches: runs that continue, break, arrive late and are remembered again', () => {
    const random = seededRandom(3);
    const windowSize = 300;
    const index = new ProducerSequences(windowSize);
    const model = new Model(windowSize);
    const next = [0, 0];
    let offset = 0;
    const sequencesOf = (producerId: number, from: number, count: number) => Array.from({ length: count }, (_, i) => from + i).map((sequence) => ({ producerId, sequence }));
    for (let step = 0; step < 1_500; step++) {
      const producerId = 1 + random(2);
      const roll = random(10);
      const count = 1 + random(roll === 0 ? 200 : 30);
      let from = next[producerId - 1]!;
      // A batch held back while later ones landed (arrives below the highest), or a gap.
      if (roll === 1) from = Math.max(0, from - 1 - random(400));
      else if (roll <= 3) from += random(40);
      for (const { sequence } of sequencesOf(producerId, from, count)) {
        const expected = model.check(producerId, sequence);
        expect(index.check(producerId, sequence)).toEqual(expected);
        // Now and then a sequence is remembered again at another offset (a rebuild over records already known).
        if (expected.kind === 'new' || (expected.kind === 'duplicate' && random(50) === 0)) {
          index.remember(producerId, sequence, offset);
          model.remember(producerId, sequence, offset);
          offset++;
        }
        next[producerId - 1] = Math.max(next[producerId - 1]!, sequence + 1);
      }
      // Every sequence the model holds, the index gives the same answer for.
      if (step % 100 === 0) {
        for (let sequence = Math.max(0, next[producerId - 1]! - 2 * windowSize); sequence < next[producerId - 1]!; sequence++) {
          expect(index.check(producerId, sequence)).toEqual(model.check(producerId, sequence));
        }
      }
    }
  });

  it('forgets producers idle since before a time, floor and all, and keeps the ones used since', () => {
    const index = new ProducerSequences(2);
    index.remember(1, 0, 0, false, 1_000);
    index.remember(1, 1, 1, false, 1_000);
    index.remember(1, 2, 2, false, 1_000); // evicts 0: the floor is 1
    index.remember(2, 0, 3, false, 1_000);
    index.remember(2, 1, 4, false, 5_000); // used again later
    expect(index.expireIdle(1_000)).toBe(0);
    expect(index.expireIdle(5_000)).toBe(1);
    expect(index.producerCount).toBe(1);
    // Forgotten: a retry or an old sequence is new again (as in Kafka once a producer id expires).
    expect(index.check(1, 2)).toEqual({ kind: 'new' });
    expect(index.check(1, 0)).toEqual({ kind: 'new' });
    expect(index.highestSequence(1)).toBeUndefined();
    expect(index.check(2, 1)).toEqual({ kind: 'duplicate', offset: 4 });
  });

  it('a producer whose newest record is old but was remembered again recently is kept', () => {
    const index = new ProducerSequences();
    index.remember(1, 5, 0, true, 100); // replayed from the WAL with its own timestamp
    index.remember(1, 6, 1, false, 9_000);
    index.remember(1, 5, 0, true, 50); // an older time never moves it back
    expect(index.expireIdle(8_000)).toBe(0);
    expect(index.expireIdle(9_001)).toBe(1);
  });

  it('answers every check as the model does, through in-order runs, retries, gaps and reordering', () => {
    const random = seededRandom(11);
    const windowSize = 50;
    const index = new ProducerSequences(windowSize);
    const model = new Model(windowSize);
    const next = [0, 0, 0];
    let offset = 0;
    for (let step = 0; step < 20_000; step++) {
      const producerId = 1 + random(3);
      const roll = random(10);
      // Mostly the next sequence; sometimes a retry of a recent one, a gap, or one from long ago.
      let sequence = next[producerId - 1]!;
      if (roll === 0) sequence = Math.max(0, sequence - 1 - random(60));
      else if (roll === 1) sequence += random(5);
      else if (roll === 2) sequence = random(sequence + 1);
      const expected = model.check(producerId, sequence);
      expect(index.check(producerId, sequence)).toEqual(expected);
      if (expected.kind === 'new') {
        index.remember(producerId, sequence, offset);
        model.remember(producerId, sequence, offset);
        offset++;
        next[producerId - 1] = Math.max(next[producerId - 1]!, sequence + 1);
      }
    }
  });
});
