/**
 * A topic's time (`retention_ms`) or size (`retention_bytes`) limit: a positive whole number that
 * JavaScript holds exactly. Unset means no limit; zero is refused rather than read as "none" or
 * "delete at once".
 */
export function isValidRetentionLimit(value: unknown): value is number | bigint {
  if (typeof value === 'bigint') return value >= 1n && value <= BigInt(Number.MAX_SAFE_INTEGER);
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}
