import type { DescService } from '@bufbuild/protobuf';
import type { CallOptions, Client } from '@connectrpc/connect';
import { sleep, throwIfAborted } from '../abort.js';
import type { ConsumerError } from '../errors/consumer-error.js';
import { toConsumerError } from '../errors/rpc-error-mapping.js';
import type { Gateway, Gateways } from '../transport/gateways.js';
import { backoffDelay, type RetryPolicy } from './retry-policy.js';

/** Hears how each attempt went (connection status events). */
export interface AttemptObserver {
  succeeded(url: string): void;
  failed(url: string, error: ConsumerError): void;
}

export interface CallWithRetryOptions {
  policy: RetryPolicy;
  /** Stops the call and the waits between attempts, rejecting with ABORTED. */
  signal?: AbortSignal;
  observer?: AttemptObserver;
}

/**
 * Makes one RPC on the current gateway and retries it on retriable failures (UNAVAILABLE, TIMEOUT),
 * moving to the next gateway each time, with backoff. No attempt starts after the policy's deadline and
 * each may take up to requestTimeoutMs, so a call settles within deadlineMs + requestTimeoutMs; a
 * deadline of 0 makes exactly one attempt.
 */
export async function callWithRetry<S extends DescService, T>(
  gateways: Gateways<S>,
  call: (client: Client<S>, options: CallOptions, attempt: number) => Promise<T>,
  { policy, signal, observer }: CallWithRetryOptions,
): Promise<T> {
  const deadline = Date.now() + policy.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    const gateway: Gateway<S> = gateways.current();
    let failure: ConsumerError;
    try {
      const result = await call(gateway.client, { signal, timeoutMs: policy.requestTimeoutMs }, attempt);
      observer?.succeeded(gateway.url);
      return result;
    } catch (error) {
      failure = toConsumerError(error, signal);
    }
    if (!failure.retriable) throw failure;
    observer?.failed(gateway.url, failure);
    gateways.failover(gateway);
    const delay = backoffDelay(attempt, policy);
    if (Date.now() + delay >= deadline) throw failure;
    await sleep(delay, signal);
  }
}
