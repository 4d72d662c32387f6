import { TailCache } from './tail-cache.js';

const record = (size: number, fill = 1) => new Uint8Array(size).fill(fill);

describe('TailCache', () => {
  it('stays within its byte budget and keeps the newest records contiguous', () => {
    const cache = new TailCache(10_000, 5);
    for (let offset = 5; offset < 5_005; offset++) cache.append(offset, record(100, offset % 256));
    expect(cache.sizeBytes).toBeLessThanOrEqual(10_000);
    expect(cache.endOffset).toBe(5_005);
    expect(cache.startOffset).toBeGreaterThan(5);
    expect(cache.get(cache.startOffset - 1)).toBeUndefined();
    expect(cache.get(5_004)![0]).toBe(5_004 % 256);
  });

  it('holds nothing with a zero budget, and drops a record larger than the budget', () => {
    const none = new TailCache(0, 0);
    none.append(0, record(10));
    expect(none.startOffset).toBe(1);
    expect(none.endOffset).toBe(1);
    const small = new TailCache(1_000, 0);
    small.append(0, record(100));
    small.append(1, record(5_000));
    expect(small.startOffset).toBe(2);
    expect(small.sizeBytes).toBe(0);
  });

  it('truncates from an offset and continues from there', () => {
    const cache = new TailCache(100_000, 0);
    for (let offset = 0; offset < 10; offset++) cache.append(offset, record(10, offset));
    cache.truncateFrom(6);
    expect(cache.endOffset).toBe(6);
    expect(cache.get(6)).toBeUndefined();
    cache.append(6, record(10, 66));
    expect(cache.get(6)![0]).toBe(66);
    cache.truncateFrom(0);
    expect(cache.startOffset).toBe(0);
    expect(cache.endOffset).toBe(0);
  });

  it('drops records before an offset', () => {
    const cache = new TailCache(100_000, 0);
    for (let offset = 0; offset < 10; offset++) cache.append(offset, record(10, offset));
    cache.dropBefore(4);
    expect(cache.startOffset).toBe(4);
    expect(cache.get(3)).toBeUndefined();
    expect(cache.get(4)![0]).toBe(4);
    cache.dropBefore(10);
    expect(cache.startOffset).toBe(10);
    expect(cache.endOffset).toBe(10);
  });
});
