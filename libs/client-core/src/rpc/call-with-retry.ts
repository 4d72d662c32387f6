import type { DescService } from '@bufbuild/protobuf';
import type { CallOptions, Client } from '@connectrpc/connect';
import { abortHelpers } from '../abort.js';
import type { ClientErrors } from '../errors/client-failure.js';
import { toClientError } from '../errors/rpc-error-mapping.js';
import type { Gateway, Gateways } from '../transport/gateways.js';
import { backoffDelay, type RetryPolicy } from './retry-policy.js';

/** The client's own error, as far as retrying needs to know it. */
type RetriableError = Error & { readonly retriable: boolean };

/** Hears how each attempt went (the consumer's connection status events). */
export interface AttemptObserver<E extends RetriableError> {
  succeeded(url: string): void;
  failed(url: string, error: E): void;
}

export interface CallWithRetryOptions<E extends RetriableError> {
  policy: RetryPolicy;
  /** What the call rejects with: the client's own error class. */
  errors: ClientErrors<E>;
  /** The caller's signal: stops the call and the waits between attempts, rejecting with ABORTED. */
  signal?: AbortSignal | undefined;
  observer?: AttemptObserver<E> | undefined;
}

/**
 * Makes one RPC on the current gateway and retries it on retriable failures (UNAVAILABLE, TIMEOUT),
 * moving to the next gateway each time, with backoff. No attempt starts after the policy's deadline and
 * each may take up to requestTimeoutMs, so a call settles within deadlineMs + requestTimeoutMs; a
 * deadline of 0 makes exactly one attempt. The call must be safe to repeat (the producer's Send is,
 * because its messages carry their sequences).
 */
export async function callWithRetry<S extends DescService, T, E extends RetriableError>(
  gateways: Gateways<S, E>,
  call: (client: Client<S>, options: CallOptions, attempt: number) => Promise<T>,
  { policy, errors, signal, observer }: CallWithRetryOptions<E>,
): Promise<T> {
  const { sleep, throwIfAborted } = abortHelpers(errors);
  const deadline = Date.now() + policy.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    const gateway: Gateway<S> = gateways.current();
    let failure: E;
    try {
      const result = await call(gateway.client, { signal, timeoutMs: policy.requestTimeoutMs }, attempt);
      observer?.succeeded(gateway.url);
      return result;
    } catch (error) {
      failure = toClientError(errors, error, signal);
    }
    if (!failure.retriable) throw failure;
    observer?.failed(gateway.url, failure);
    gateways.failover(gateway);
    const delay = backoffDelay(attempt, policy);
    if (Date.now() + delay >= deadline) throw failure;
    await sleep(delay, signal);
  }
}
