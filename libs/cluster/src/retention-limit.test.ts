import { assertRetentionLimit } from './retention-limit.js';

describe('assertRetentionLimit', () => {
  it('lets an unset or valid limit through', () => {
    expect(() => assertRetentionLimit(undefined, 'retention_ms')).not.toThrow();
    expect(() => assertRetentionLimit(60_000n, 'retention_ms')).not.toThrow();
  });

  it('refuses anything else with INVALID_ARGUMENT naming the field', () => {
    for (const bad of [0n, -1n, BigInt(Number.MAX_SAFE_INTEGER) + 1n]) {
      expect(() => assertRetentionLimit(bad, 'retention_bytes')).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { retention_bytes: String(bad) } }),
      );
    }
  });
});
