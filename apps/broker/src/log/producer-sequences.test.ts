import { ProducerSequences } from './producer-sequences.js';

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

  it('remembering a sequence again updates its offset without counting it twice', () => {
    const index = new ProducerSequences(2);
    index.remember(1, 1, 10);
    index.remember(1, 1, 11);
    index.remember(1, 2, 12);
    expect(index.check(1, 1)).toEqual({ kind: 'duplicate', offset: 11 });
    expect(index.check(1, 2)).toEqual({ kind: 'duplicate', offset: 12 });
  });
});
