import { isValidRetentionLimit } from './retention-limit.js';

describe('isValidRetentionLimit', () => {
  it.each([1, 1n, 60_000, 1n << 30n, Number.MAX_SAFE_INTEGER, BigInt(Number.MAX_SAFE_INTEGER)])('takes %p', (value) => {
    expect(isValidRetentionLimit(value)).toBe(true);
  });

  it.each([0, 0n, -1, -1n, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1, BigInt(Number.MAX_SAFE_INTEGER) + 1n, '60000', null, undefined])(
    'refuses %p',
    (value) => {
      expect(isValidRetentionLimit(value)).toBe(false);
    },
  );
});
