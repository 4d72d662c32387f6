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

/** The old cache, one array entry per record: what TailCache must behave like. */
class ReferenceCache {
  entries: Uint8Array[] = [];
  first: number;
  bytes = 0;
  constructor(
    private readonly maxBytes: number,
    start: number,
  ) {
    this.first = start;
  }
  get end(): number {
    return this.first + this.entries.length;
  }
  append(offset: number, data: Uint8Array): void {
    if (offset !== this.end) this.reset(offset);
    this.entries.push(data);
    this.bytes += data.byteLength + 48;
    while (this.bytes > this.maxBytes && this.entries.length > 0) this.evict();
  }
  truncateFrom(offset: number): void {
    if (offset <= this.first) return this.reset(offset);
    while (this.end > offset) this.bytes -= this.entries.pop()!.byteLength + 48;
  }
  dropBefore(offset: number): void {
    if (offset >= this.end) return this.reset(this.end);
    while (this.first < offset) this.evict();
  }
  reset(offset: number): void {
    this.entries = [];
    this.first = offset;
    this.bytes = 0;
  }
  private evict(): void {
    this.bytes -= this.entries.shift()!.byteLength + 48;
    this.first++;
  }
}

describe('TailCache, records sharing buffers', () => {
  /** Records laid end to end in one buffer, as the WAL writes a group commit. */
  function groupOf(sizes: number[], seed: number): Uint8Array[] {
    const buffer = Buffer.allocUnsafe(sizes.reduce((a, b) => a + b, 0) + 16);
    let at = 16;
    return sizes.map((size, i) => {
      const view = buffer.subarray(at, at + size);
      view.fill((seed + i) % 256);
      at += size;
      return view;
    });
  }

  it('serves each record from its group buffer after evictions, truncations and resets', () => {
    // Budget for the first two groups exactly (6 records + 48 B each); the third evicts the whole first group and one more.
    const cache = new TailCache(1_300, 0);
    let offset = 0;
    for (const group of [groupOf([10, 20, 30], 1), groupOf([500, 500], 9), groupOf([5, 5, 5, 5], 40)]) {
      for (const record of group) cache.append(offset++, record);
    }
    expect([cache.startOffset, cache.endOffset, cache.sizeBytes]).toEqual([4, 9, 548 + 4 * 53]);
    expect(cache.get(3)).toBeUndefined();
    expect(Buffer.from(cache.get(4)!)).toEqual(Buffer.alloc(500, 10));
    expect(Buffer.from(cache.get(8)!)).toEqual(Buffer.alloc(5, 43));

    cache.truncateFrom(5);
    expect(cache.endOffset).toBe(5);
    const [a, b] = groupOf([7, 8], 100);
    cache.append(5, a!);
    cache.append(6, b!);
    expect(Buffer.from(cache.get(4)!)).toEqual(Buffer.alloc(500, 10));
    expect(Buffer.from(cache.get(5)!)).toEqual(Buffer.alloc(7, 100));
    expect(Buffer.from(cache.get(6)!)).toEqual(Buffer.alloc(8, 101));

    // After a reset, a record from the same buffer as the last one still reads its own bytes.
    cache.reset(20);
    cache.append(20, b!);
    expect(Buffer.from(cache.get(20)!)).toEqual(Buffer.alloc(8, 101));
  });

  it('behaves like one entry per record under any mix of operations', () => {
    let state = 12345;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    const cache = new TailCache(4_000, 0);
    const reference = new ReferenceCache(4_000, 0);
    for (let step = 0; step < 3_000; step++) {
      const choice = random(100);
      if (choice < 80) {
        const group = groupOf(Array.from({ length: 1 + random(20) }, () => 1 + random(300)), random(256));
        for (const record of group) {
          const at = random(50) === 0 ? reference.end + 1 : reference.end;
          cache.append(at, record);
          reference.append(at, record);
        }
      } else if (choice < 90) {
        const at = reference.first + random(reference.entries.length + 2) - 1;
        cache.truncateFrom(at);
        reference.truncateFrom(at);
      } else if (choice < 99) {
        const at = reference.first + random(reference.entries.length + 2);
        cache.dropBefore(at);
        reference.dropBefore(at);
      } else {
        cache.reset(reference.end + 3);
        reference.reset(reference.end + 3);
      }
      expect([cache.startOffset, cache.endOffset, cache.sizeBytes]).toEqual([reference.first, reference.end, reference.bytes]);
      for (let offset = reference.first - 1; offset <= reference.end; offset++) {
        const expected = reference.entries[offset - reference.first];
        const got = cache.get(offset);
        if (expected === undefined) expect(got).toBeUndefined();
        else expect(got && Buffer.compare(got, expected)).toBe(0);
      }
    }
  });
});
