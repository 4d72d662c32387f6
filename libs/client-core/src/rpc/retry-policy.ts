/** How a call is retried; the public `retry` option after defaults. */
export interface RetryPolicy {
  /** Total time budget from the first attempt; no new attempt starts after it. */
  deadlineMs: number;
  /** First backoff ceiling; doubles each attempt. */
  baseDelayMs: number;
  /** Largest backoff ceiling. */
  maxDelayMs: number;
  /** Longest wait for one attempt before it counts as a TIMEOUT (and is retried). */
  requestTimeoutMs: number;
}

/**
 * Exponential backoff with full jitter: a uniform wait in [0, min(max, base * 2^(attempt-1))], so
 * that many clients retrying after one outage do not arrive in step.
 */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.random() * ceiling;
}
