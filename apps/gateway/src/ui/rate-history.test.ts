import { RateHistory } from './rate-history.js';

const totals = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));

describe('RateHistory', () => {
  test('averages over the sliding window and keeps per-interval rates', () => {
    const history = new RateHistory({ windowMs: 3000, seriesLength: 4, sampleIntervalMs: 1000 });
    expect(history.rate('a')).toBe(0);
    history.record({ atMs: 0, totals: totals({}) });
    expect(history.rate('a')).toBe(0);
    history.record({ atMs: 1000, totals: totals({ a: 10 }) });
    history.record({ atMs: 2000, totals: totals({ a: 10, b: 4 }) });
    history.record({ atMs: 3000, totals: totals({ a: 40, b: 4 }) });
    history.record({ atMs: 4000, totals: totals({ a: 70, b: 4 }) });

    // The window ends at 4000 and reaches back to the sample at 1000.
    expect(history.rate('a')).toBe(20);
    expect(history.rate('b')).toBeCloseTo(4 / 3);
    expect(history.rate()).toBeCloseTo(64 / 3);
    expect(history.series('a')).toEqual([10, 0, 30, 30]);
    expect(history.series()).toEqual([10, 4, 30, 30]);
    expect(history.total('a')).toBe(70);
    expect(history.total()).toBe(74);
    expect(history.keys().sort()).toEqual(['a', 'b']);
  });

  test('the series is capped and old samples leave the window', () => {
    const history = new RateHistory({ windowMs: 2000, seriesLength: 3, sampleIntervalMs: 1000 });
    for (let i = 0; i <= 10; i++) history.record({ atMs: i * 1000, totals: totals({ a: i < 8 ? i * 5 : 35 }) });
    expect(history.series('a')).toEqual([0, 0, 0]);
    expect(history.rate('a')).toBe(0);
  });

  test('a sample that does not move time forward is ignored, and counters never yield negative rates', () => {
    const history = new RateHistory({ windowMs: 5000, seriesLength: 10, sampleIntervalMs: 1000 });
    history.record({ atMs: 1000, totals: totals({ a: 5 }) });
    history.record({ atMs: 1000, totals: totals({ a: 50 }) });
    history.record({ atMs: 500, totals: totals({ a: 60 }) });
    history.record({ atMs: 2000, totals: totals({ a: 3 }) });
    expect(history.series('a')).toEqual([0]);
    expect(history.rate('a')).toBe(0);
  });
});
