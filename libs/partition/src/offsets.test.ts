import { deletableCount, isFetchable, isRetained, pendingCount, retentionStart, startOffset } from './offsets.js';

describe('pendingCount', () => {
  it('counts what is left to read and is never negative', () => {
    expect(pendingCount(3, 10)).toBe(7);
    expect(pendingCount(10, 10)).toBe(0);
    expect(pendingCount(12, 10)).toBe(0);
  });

  it('rejects invalid offsets', () => {
    expect(() => pendingCount(-1, 10)).toThrow(RangeError);
    expect(() => pendingCount(1, 2.5)).toThrow(RangeError);
  });
});

describe('retentionStart', () => {
  it('is the lowest consumer position', () => {
    expect(retentionStart(0, [7, 3, 9], 10)).toBe(3);
  });

  it('is clamped to the log start and the end', () => {
    expect(retentionStart(5, [2, 8], 10)).toBe(5);
    expect(retentionStart(0, [12, 15], 10)).toBe(10);
  });

  it('is the end of the log when nobody is subscribed', () => {
    expect(retentionStart(4, [], 10)).toBe(10);
  });

  it('rejects an inverted range', () => {
    expect(() => retentionStart(11, [], 10)).toThrow(RangeError);
  });
});

describe('deletableCount', () => {
  it('counts messages below the retention start', () => {
    expect(deletableCount(2, 7)).toBe(5);
    expect(deletableCount(7, 7)).toBe(0);
  });
});

describe('startOffset', () => {
  it('starts latest consumers at the end and earliest ones at the log start', () => {
    expect(startOffset('latest', 3, 10)).toBe(10);
    expect(startOffset('earliest', 3, 10)).toBe(3);
  });
});

describe('isRetained / isFetchable', () => {
  it('draws the borders of the log', () => {
    expect(isRetained(3, 3, 10)).toBe(true);
    expect(isRetained(9, 3, 10)).toBe(true);
    expect(isRetained(10, 3, 10)).toBe(false);
    expect(isRetained(2, 3, 10)).toBe(false);
    expect(isFetchable(10, 3, 10)).toBe(true);
    expect(isFetchable(11, 3, 10)).toBe(false);
    expect(isFetchable(2, 3, 10)).toBe(false);
    expect(isFetchable(4.5, 3, 10)).toBe(false);
  });
});
