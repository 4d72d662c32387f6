import { Acks, DEFAULT_HTTP_VERSION, optionNames } from '@partq/client-core';
import { ProducerError } from './errors/producer-error.js';
import { assertKnownOptions } from './known-options.js';
import type { RetryPolicy } from '@partq/client-core';
import type { HttpVersion } from '@partq/client-core';

/** Acknowledgement mode: 'broker' after the owning broker's fsync, 'all' once committed in PostgreSQL. */
export type AcksMode = 'broker' | 'all';

export interface RetryOptions {
  /** Time from a call's (or batch's) first attempt after which no new attempt starts. Default 30 000 ms. */
  deadlineMs?: number;
  /** First backoff ceiling, doubling per attempt (with full jitter). Default 50 ms. */
  baseDelayMs?: number;
  /** Largest backoff ceiling. Default 2000 ms. */
  maxDelayMs?: number;
}

export interface ProducerOptions {
  /** Gateway base URLs, e.g. ['http://127.0.0.1:8080']; calls move to the next one when one is unreachable. */
  urls: string[];
  /** '2' (default: HTTP/2, cleartext h2c for http:// URLs) or '1.1'. */
  httpVersion?: HttpVersion;
  /** How long a batch waits for more messages after its first one. Default 5 ms. */
  lingerMs?: number;
  /** Messages per batch (one Send RPC). Default 500. */
  maxBatchCount?: number;
  /** Approximate bytes per batch. Default 1 MiB. */
  maxBatchBytes?: number;
  /**
   * Keyless messages (no key, no partition) stay on one partition of their topic until about this
   * many bytes have gone to it, then move on to the next, a whole batch at a time (Kafka's uniform
   * sticky partitioner). A run of small batches then costs one broker's appends instead of waking
   * every partition's broker in turn. Default 16 384; 0 moves on with every batch.
   */
  stickyPartitionBytes?: number;
  /**
   * Batches on the wire at once; beyond that send() waits. Default 8. While one of them waits to
   * retry, no new batch goes out. Keep maxInFlight × maxBatchCount within the broker's window of
   * 8192 sequences per producer and partition, or a retried batch may be refused as too old.
   */
  maxInFlight?: number;
  retry?: RetryOptions;
  /** Longest wait for one attempt of an RPC before it counts as a TIMEOUT and is retried. Default 15 000 ms. */
  requestTimeoutMs?: number;
  /** Default acks for sends; unset: the topic's default. */
  acks?: AcksMode;
  /** Give every message a sequence so retried batches land once. Default true. */
  idempotent?: boolean;
}

const PRODUCER_OPTIONS = optionNames<ProducerOptions>({
  urls: true,
  httpVersion: true,
  lingerMs: true,
  maxBatchCount: true,
  maxBatchBytes: true,
  stickyPartitionBytes: true,
  maxInFlight: true,
  retry: true,
  requestTimeoutMs: true,
  acks: true,
  idempotent: true,
});
const RETRY_OPTIONS = optionNames<RetryOptions>({ deadlineMs: true, baseDelayMs: true, maxDelayMs: true });

/** Kafka's batch.size, which its uniform sticky partitioner (KIP-794) stays on a partition for. */
export const DEFAULT_STICKY_PARTITION_BYTES = 16 * 1024;

export interface ResolvedProducerOptions {
  urls: string[];
  httpVersion: HttpVersion;
  lingerMs: number;
  maxBatchCount: number;
  maxBatchBytes: number;
  stickyPartitionBytes: number;
  maxInFlight: number;
  retry: RetryPolicy;
  acks: Acks;
  idempotent: boolean;
}

export function resolveProducerOptions(options: ProducerOptions): ResolvedProducerOptions {
  if (options === null || typeof options !== 'object') throw new ProducerError('INVALID_ARGUMENT', 'producer options are required');
  assertKnownOptions(options, PRODUCER_OPTIONS, 'producer options');
  if (options.retry !== undefined) assertKnownOptions(options.retry, RETRY_OPTIONS, 'producer options.retry');
  const httpVersion = options.httpVersion ?? DEFAULT_HTTP_VERSION;
  if (httpVersion !== '1.1' && httpVersion !== '2') {
    throw new ProducerError('INVALID_ARGUMENT', `httpVersion must be '1.1' or '2', got ${String(httpVersion)}`);
  }
  return {
    urls: options.urls,
    httpVersion,
    lingerMs: count('lingerMs', options.lingerMs, 5, 0),
    maxBatchCount: count('maxBatchCount', options.maxBatchCount, 500, 1),
    maxBatchBytes: count('maxBatchBytes', options.maxBatchBytes, 1024 * 1024, 1),
    stickyPartitionBytes: count('stickyPartitionBytes', options.stickyPartitionBytes, DEFAULT_STICKY_PARTITION_BYTES, 0),
    maxInFlight: count('maxInFlight', options.maxInFlight, 8, 1),
    retry: {
      deadlineMs: count('retry.deadlineMs', options.retry?.deadlineMs, 30_000, 0),
      baseDelayMs: count('retry.baseDelayMs', options.retry?.baseDelayMs, 50, 0),
      maxDelayMs: count('retry.maxDelayMs', options.retry?.maxDelayMs, 2000, 0),
      requestTimeoutMs: count('requestTimeoutMs', options.requestTimeoutMs, 15_000, 1),
    },
    acks: toAcks(options.acks),
    idempotent: options.idempotent ?? true,
  };
}

export function toAcks(mode: AcksMode | undefined): Acks {
  switch (mode) {
    case undefined:
      return Acks.UNSPECIFIED;
    case 'broker':
      return Acks.BROKER;
    case 'all':
      return Acks.ALL;
    default:
      throw new ProducerError('INVALID_ARGUMENT', `acks must be 'broker' or 'all', got ${String(mode)}`);
  }
}

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ProducerError('INVALID_ARGUMENT', `${name} must be a number >= ${min}, got ${String(value)}`);
  }
  return value;
}
