import type { ClientErrors } from './errors/client-failure.js';
import { abortedFailure } from './errors/rpc-error-mapping.js';

/** The abort helpers bound to one client's error class: each rejects with that client's ABORTED. */
export interface AbortHelpers<E extends Error> {
  abortedError(signal: AbortSignal): E;
  throwIfAborted(signal: AbortSignal | undefined): void;
  /**
   * Settles like `promise`, or rejects with ABORTED as soon as `signal` fires. The work behind `promise`
   * goes on (it may be shared with other callers); only this caller stops waiting for it.
   */
  raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T>;
  /** Resolves after `ms`; rejects with ABORTED as soon as `signal` fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function abortHelpers<E extends Error>(errors: Pick<ClientErrors<E>, 'fromFailure'>): AbortHelpers<E> {
  const abortedError = (signal: AbortSignal): E => errors.fromFailure(abortedFailure(signal));

  const throwIfAborted = (signal: AbortSignal | undefined): void => {
    if (signal?.aborted) throw abortedError(signal);
  };

  const raceAbort = <T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> => {
    if (!signal) return promise;
    if (signal.aborted) return Promise.reject(abortedError(signal));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortedError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  };

  const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortedError(signal));
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortedError(signal!));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  return { abortedError, throwIfAborted, raceAbort, sleep };
}
