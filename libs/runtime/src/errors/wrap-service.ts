import { fromConnectError, toConnectError } from './connect-mapping.js';
import type { ErrorCode } from './error-code.js';
import { PartqError } from './partq-error.js';

export interface ServiceErrorInfo {
  /** Name of the implementation method that failed. */
  method: string;
  /** What the handler threw. */
  error: unknown;
  /** The partq code the client will see. */
  code: ErrorCode;
}

export interface WrapServiceOptions {
  /** Called for every failure before it is sent; log INTERNAL ones here, they reach the client without detail. */
  onError?: (info: ServiceErrorInfo) => void;
}

/**
 * Wraps every method of a Connect service implementation (a plain object or a class instance) so
 * whatever it throws — synchronously, as a rejected promise, or from inside a server-streaming
 * async generator — reaches Connect as `toConnectError(e)`, with the partq code in the metadata.
 * A stream that fails after its call's signal aborted fails for the abort's reason (CANCELLED when it gives none).
 */
export function wrapServiceImpl<T extends object>(impl: T, options: WrapServiceOptions = {}): T {
  const wrapped: Record<string, unknown> = {};
  for (const name of methodNames(impl)) {
    const method = (impl as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
    wrapped[name] = (...args: unknown[]): unknown => {
      const fail = (error: unknown): never => {
        const connectError = toConnectError(error);
        options.onError?.({ method: name, error, code: fromConnectError(connectError).code });
        throw connectError;
      };
      let result: unknown;
      try {
        result = method.apply(impl, args);
      } catch (error) {
        return fail(error);
      }
      if (isPromiseLike(result)) return Promise.resolve(result).catch(fail);
      if (isAsyncIterable(result)) {
        // A stream whose call was aborted (its client went away, the server stops) fails where it
        // writes next: it fails for the abort's reason, not as a fault of its own.
        const signal = (args[1] as { signal?: AbortSignal } | undefined)?.signal;
        return guardStream(result, (error) => fail(signal?.aborted ? abortReason(signal.reason, error) : error));
      }
      return result;
    };
  }
  return wrapped as T;
}

async function* guardStream(source: AsyncIterable<unknown>, fail: (error: unknown) => never): AsyncGenerator<unknown> {
  try {
    yield* source;
  } catch (error) {
    fail(error);
  }
}

/** Own and inherited method names, stopping at Object.prototype. */
function methodNames(impl: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = impl; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor' || names.has(name)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
  }
  return [...names];
}

/** Why an aborted call ended: the signal's reason when it says, else CANCELLED. */
function abortReason(reason: unknown, error: unknown): unknown {
  return reason instanceof Error && reason.name !== 'AbortError' ? reason : new PartqError('CANCELLED', 'the call was cancelled', undefined, { cause: error });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function';
}
