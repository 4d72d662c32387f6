import { RECORD_OVERHEAD_BYTES, type FetchedRecord } from './fetched-record.js';
import { ReadAheadCache } from './read-ahead-cache.js';

const records = (from: number, count: number, size = 10): FetchedRecord[] =>
  Array.from({ length: count }, (_, i) => ({ offset: from + i, payload: new Uint8Array(size), timestampMs: 1 }));
const offsets = (list: FetchedRecord[] | undefined) => list?.map((r) => r.offset);

describe('ReadAheadCache', () => {
  it('answers for offsets inside the cached run, never at or past its end', () => {
    const cache = new ReadAheadCache(1 << 20);
    cache.put('1/0', 1, records(10, 5));
    expect(offsets(cache.get('1/0', 1, 10, 2))).toEqual([10, 11]);
    expect(offsets(cache.get('1/0', 1, 13, 10))).toEqual([13, 14]);
    expect(cache.get('1/0', 1, 15, 1)).toBeUndefined();
    expect(cache.get('1/0', 1, 9, 1)).toBeUndefined();
    expect(cache.get('1/1', 1, 10, 1)).toBeUndefined();
    expect(cache.endOf('1/0', 1)).toBe(15);
  });

  it('extends a run that is continued or overlapped, and replaces one that is not', () => {
    const cache = new ReadAheadCache(1 << 20);
    cache.put('1/0', 1, records(0, 3));
    cache.put('1/0', 1, records(3, 2));
    cache.put('1/0', 1, records(4, 3));
    expect(offsets(cache.get('1/0', 1, 0, 100))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    cache.put('1/0', 1, records(20, 2));
    expect(cache.get('1/0', 1, 0, 1)).toBeUndefined();
    expect(offsets(cache.get('1/0', 1, 20, 100))).toEqual([20, 21]);
  });

  it('drops records read under an older epoch (the new owner may have truncated them)', () => {
    const cache = new ReadAheadCache(1 << 20);
    cache.put('1/0', 1, records(0, 3));
    expect(cache.get('1/0', 2, 0, 1)).toBeUndefined();
    expect(cache.get('1/0', 1, 0, 1)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('stays within its byte bound: least recently used partitions first, then the oldest records', () => {
    // Each record costs 10 bytes and the overhead: 10 records fit.
    const bound = 10 * (10 + RECORD_OVERHEAD_BYTES);
    const cache = new ReadAheadCache(bound);
    cache.put('1/0', 1, records(0, 4));
    cache.put('1/1', 1, records(0, 4));
    cache.get('1/0', 1, 0, 1); // 1/0 is now the most recently used
    cache.put('1/2', 1, records(0, 4));
    expect(cache.get('1/1', 1, 0, 1)).toBeUndefined();
    expect(cache.get('1/0', 1, 0, 1)).toBeDefined();
    expect(cache.bytes).toBeLessThanOrEqual(bound);

    cache.put('1/3', 1, records(0, 12));
    expect(cache.bytes).toBeLessThanOrEqual(bound);
    expect(cache.get('1/3', 1, 0, 1)).toBeUndefined();
    expect(offsets(cache.get('1/3', 1, 2, 100))).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('caches nothing with a bound of zero', () => {
    const cache = new ReadAheadCache(0);
    cache.put('1/0', 1, records(0, 3));
    expect(cache.get('1/0', 1, 0, 1)).toBeUndefined();
  });
});
