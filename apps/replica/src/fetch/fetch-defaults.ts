/** Bytes one read of a partition asks of a broker (Fetch or Tail max_bytes) when not configured. */
export const DEFAULT_FETCH_MAX_BYTES = 8 * 1024 * 1024;

/** Deadline of a call to a broker when not configured: a stopped broker must not hold a consume for long. */
export const DEFAULT_BROKER_TIMEOUT_MS = 2000;
