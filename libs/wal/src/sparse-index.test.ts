import { SparseIndex } from './sparse-index.js';

describe('SparseIndex', () => {
  it('keeps one entry per interval of bytes, however small the frames', () => {
    const index = new SparseIndex(4096);
    const frameBytes = 116;
    const frames = 100_000;
    for (let i = 0; i < frames; i++) index.noteFrame(1000 + i, i * frameBytes);
    const totalBytes = frames * frameBytes;
    expect(index.entries).toBeLessThanOrEqual(Math.ceil(totalBytes / 4096) + 1);
    expect(index.entries).toBeGreaterThan(totalBytes / (4096 + frameBytes) - 1);
  });

  it('finds the nearest entry at or before an offset', () => {
    const index = new SparseIndex(100);
    for (let i = 0; i < 50; i++) index.noteFrame(10 + i, i * 30);
    // Entries land on frames at positions 0, 120, 240, ... (every 4th frame of 30 bytes).
    expect(index.floor(9)).toBeUndefined();
    expect(index.floor(10)).toEqual({ offset: 10, position: 0 });
    expect(index.floor(13)).toEqual({ offset: 10, position: 0 });
    expect(index.floor(14)).toEqual({ offset: 14, position: 120 });
    expect(index.floor(1_000)).toEqual({ offset: 58, position: 1440 });
  });

  it('forgets entries from a truncation point and indexes new frames after it', () => {
    const index = new SparseIndex(100);
    for (let i = 0; i < 20; i++) index.noteFrame(i, i * 50);
    index.truncateFrom(7);
    expect(index.floor(19)).toEqual({ offset: 6, position: 300 });
    index.noteFrame(7, 350);
    index.noteFrame(8, 400);
    expect(index.floor(8)).toEqual({ offset: 8, position: 400 });
  });
});
