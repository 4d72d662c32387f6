import { fromConnectError } from './errors/connect-mapping.js';
import { PartqError } from './errors/partq-error.js';

export interface RetryOptions {
  /** Total time budget from the first attempt; no new attempt starts after it. */
  deadlineMs: number;
  /** First backoff ceiling; doubles each attempt. Default 50 ms. */
  baseDelayMs?: number;
  /** Largest backoff ceiling. Default 2000 ms. */
  maxDelayMs?: number;
  /** Stops waiting and retrying; `retry` then rejects with the abort reason as a PartqError (see `sleep`). */
  signal?: AbortSignal;
  /** Which failures are worth another attempt. Default: `fromConnectError(e).retriable`. */
  isRetriable?: (error: unknown) => boolean;
}

/**
 * Calls `fn(attempt)` (attempt counts from 1) until it resolves, a failure is not retriable, or the
 * deadline leaves no room for the next backoff; then rejects with the last failure as thrown.
 * Backoff is exponential with full jitter (a uniform wait in [0, min(max, base * 2^(attempt-1))])
 * so that many clients retrying after one outage do not arrive in step.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { deadlineMs, baseDelayMs = 50, maxDelayMs = 2000, signal } = options;
  const isRetriable = options.isRetriable ?? defaultIsRetriable;
  const deadline = Date.now() + deadlineMs;

  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw cancelled(signal);
      if (!isRetriable(error)) throw error;
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt - 1, 30));
      const delay = Math.random() * ceiling;
      if (Date.now() + delay >= deadline) throw error;
      await sleep(delay, signal);
    }
  }
}

function defaultIsRetriable(error: unknown): boolean {
  return fromConnectError(error).retriable;
}

/**
 * Resolves after `ms`; rejects as soon as `signal` aborts, with its reason as a PartqError
 * (CANCELLED for a plain `abort()`).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled(signal);
}

/**
 * The error an aborted wait rejects with: the abort reason as a PartqError when it names one (a
 * server shutting down is UNAVAILABLE, `AbortSignal.timeout` is DEADLINE_EXCEEDED), else CANCELLED.
 */
function cancelled(signal: AbortSignal): PartqError {
  const reason: unknown = signal.reason;
  const mapped = reason === undefined ? undefined : fromConnectError(reason);
  if (mapped && mapped.code !== 'INTERNAL') return mapped;
  return new PartqError('CANCELLED', 'cancelled', undefined, { cause: reason });
}
