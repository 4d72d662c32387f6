import type { DescService } from '@bufbuild/protobuf';
import type { CallOptions, Client } from '@connectrpc/connect';
import { sleep, throwIfAborted } from '../abort.js';
import type { ProducerError } from '../errors/producer-error.js';
import { toProducerError } from '../errors/rpc-error-mapping.js';
import type { Gateways } from '../transport/gateways.js';
import { backoffDelay, type RetryPolicy } from './retry-policy.js';

export interface CallWithRetryOptions {
  policy: RetryPolicy;
  /** The caller's signal: stops the call and the waits between attempts, rejecting with ABORTED. */
  signal?: AbortSignal;
}

/**
 * Makes one RPC on the current gateway and retries it on retriable failures (UNAVAILABLE, TIMEOUT),
 * moving to the next gateway each time, with backoff. No attempt starts after the policy's deadline and
 * each may take up to requestTimeoutMs, so a call settles within deadlineMs + requestTimeoutMs. The
 * call must be safe to repeat: Send is, because its messages carry their sequences.
 */
export async function callWithRetry<S extends DescService, T>(
  gateways: Gateways<S>,
  call: (client: Client<S>, options: CallOptions, attempt: number) => Promise<T>,
  { policy, signal }: CallWithRetryOptions,
): Promise<T> {
  const deadline = Date.now() + policy.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    const gateway = gateways.current();
    let failure: ProducerError;
    try {
      return await call(gateway.client, { signal, timeoutMs: policy.requestTimeoutMs }, attempt);
    } catch (error) {
      failure = toProducerError(error, signal);
    }
    if (!failure.retriable) throw failure;
    gateways.failover(gateway);
    const delay = backoffDelay(attempt, policy);
    if (Date.now() + delay >= deadline) throw failure;
    await sleep(delay, signal);
  }
}
