import { LARGE_COMMIT_BYTES, MAX_LEAD_BYTES, MIN_LEAD_BYTES, preallocationEnd } from './preallocation.js';

const SEGMENT = 64 * 1024 * 1024;

describe('preallocationEnd', () => {
  it('gives a small commit at least the least lead, ending on a page', () => {
    expect(preallocationEnd(600, 0, 600, SEGMENT)).toBe(20 * 1024);
    expect(preallocationEnd(100, 0, 100, SEGMENT)).toBe(MIN_LEAD_BYTES + 4096);
  });

  it('grows the lead with the commits, up to its most', () => {
    expect(preallocationEnd(8192, 0, 8192, SEGMENT)).toBe(8192 + 32 * 8192);
    expect(preallocationEnd(200_000, 0, 200_000, SEGMENT)).toBe(Math.ceil((200_000 + MAX_LEAD_BYTES) / 4096) * 4096);
  });

  it('leaves zeros alone while several more such commits fit in them', () => {
    expect(preallocationEnd(10_000, 20 * 1024, 600, SEGMENT)).toBe(20 * 1024);
    // Fewer than eight 600-byte commits left: extended.
    expect(preallocationEnd(20 * 1024 - 4000, 20 * 1024, 600, SEGMENT)).toBe(Math.ceil((20 * 1024 - 4000 + 19_200) / 4096) * 4096);
  });

  it('writes nothing ahead of large commits or empty ones', () => {
    expect(preallocationEnd(LARGE_COMMIT_BYTES, 0, LARGE_COMMIT_BYTES, SEGMENT)).toBe(0);
    expect(preallocationEnd(5_000_000, 4096, 4 * 1024 * 1024, SEGMENT)).toBe(4096);
    expect(preallocationEnd(600, 0, 0, SEGMENT)).toBe(0);
  });

  it('stops at the segment size, where the log rolls', () => {
    expect(preallocationEnd(1000, 0, 600, 4096)).toBe(4096);
    expect(preallocationEnd(400, 0, 46, 460)).toBe(460);
    // A full segment gets none.
    expect(preallocationEnd(460, 0, 46, 460)).toBe(0);
  });
});
