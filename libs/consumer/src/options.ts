import { ConsumerError } from './errors/consumer-error.js';
import type { RetryPolicy } from '@partq/client-core';
import { DEFAULT_HTTP_VERSION, optionNames, type HttpVersion } from '@partq/client-core';
import { assertKnownOptions } from './known-options.js';

export interface RetryOptions {
  /** Time from a call's first attempt after which no new attempt starts. Default 30 000 ms. */
  deadlineMs?: number;
  /** First backoff ceiling, doubling per attempt (with full jitter). Default 50 ms. */
  baseDelayMs?: number;
  /** Largest backoff ceiling; also the longest wait between messages() retries. Default 2000 ms. */
  maxDelayMs?: number;
}

/** Messages per delivery by default; the replica caps max_messages at its fetch size (500 by default). */
const DEFAULT_MAX_MESSAGES = 500;

export interface ConsumerOptions {
  /** Gateway base URLs, e.g. ['http://127.0.0.1:8080']; calls move to the next one when one is unreachable. */
  urls: string[];
  /** '2' (default: HTTP/2, cleartext h2c for http:// URLs) or '1.1'. */
  httpVersion?: HttpVersion;
  /**
   * @deprecated Ignored: messages() no longer polls, the cluster pushes messages on a stream.
   * Still accepted so existing code compiles.
   */
  pollIntervalMs?: number;
  /**
   * Most messages poll() returns and messages() receives at a time. Default 500 (Kafka's
   * max.poll.records; the replica's default cap): deliveries of 100 left the consumer at a third of
   * what a producer sends. A delivery is also bounded in bytes by the replica (8 MiB per fetch).
   */
  maxMessages?: number;
  retry?: RetryOptions;
  /** Longest wait for one attempt of an RPC before it counts as a TIMEOUT. Default 15 000 ms. */
  requestTimeoutMs?: number;
}

const CONSUMER_OPTIONS = optionNames<ConsumerOptions>({
  urls: true,
  httpVersion: true,
  pollIntervalMs: true,
  maxMessages: true,
  retry: true,
  requestTimeoutMs: true,
});
const RETRY_OPTIONS = optionNames<RetryOptions>({ deadlineMs: true, baseDelayMs: true, maxDelayMs: true });

export interface ResolvedConsumerOptions {
  urls: string[];
  httpVersion: HttpVersion;
  maxMessages: number;
  retry: RetryPolicy;
}

export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  if (options === null || typeof options !== 'object') throw new ConsumerError('INVALID_ARGUMENT', 'consumer options are required');
  assertKnownOptions(options, CONSUMER_OPTIONS, 'consumer options');
  if (options.retry !== undefined) assertKnownOptions(options.retry, RETRY_OPTIONS, 'consumer options.retry');
  const httpVersion = options.httpVersion ?? DEFAULT_HTTP_VERSION;
  if (httpVersion !== '1.1' && httpVersion !== '2') {
    throw new ConsumerError('INVALID_ARGUMENT', `httpVersion must be '1.1' or '2', got ${String(httpVersion)}`);
  }
  const maxMessages = count('maxMessages', options.maxMessages, DEFAULT_MAX_MESSAGES, 1);
  if (!Number.isInteger(maxMessages)) throw new ConsumerError('INVALID_ARGUMENT', 'maxMessages must be an integer');
  return {
    urls: options.urls,
    httpVersion,
    maxMessages,
    retry: {
      deadlineMs: count('retry.deadlineMs', options.retry?.deadlineMs, 30_000, 0),
      baseDelayMs: count('retry.baseDelayMs', options.retry?.baseDelayMs, 50, 0),
      maxDelayMs: count('retry.maxDelayMs', options.retry?.maxDelayMs, 2000, 0),
      requestTimeoutMs: count('requestTimeoutMs', options.requestTimeoutMs, 15_000, 1),
    },
  };
}

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConsumerError('INVALID_ARGUMENT', `${name} must be a number >= ${min}, got ${String(value)}`);
  }
  return value;
}
