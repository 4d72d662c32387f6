import type { EventEmitter } from 'node:events';
import type { DisconnectEvent, ReconnectEvent } from './connection-status.js';
import type { ConsumerError } from './errors/consumer-error.js';

/** What happened to the consumer's connection, in order. */
export type StatusEvent =
  | ({ type: 'disconnect' } & DisconnectEvent)
  | ({ type: 'reconnect' } & ReconnectEvent)
  /** A transient failure that messages() is retrying. */
  | { type: 'error'; error: ConsumerError };

/**
 * The consumer's 'disconnect', 'reconnect' and 'error' events as one async iterable, for code that
 * prefers `for await` to listeners. It listens from the moment it is made (not from the first
 * next()), queues what it hears until read, and ends quietly when `stop` aborts or the caller
 * leaves the loop; either way it stops listening.
 */
export function statusEvents(emitter: EventEmitter, stop: AbortSignal): AsyncIterableIterator<StatusEvent> {
  const queue: StatusEvent[] = [];
  let wake: (() => void) | undefined;
  let ended = stop.aborted;
  const push = (event: StatusEvent): void => {
    queue.push(event);
    wake?.();
  };
  const onDisconnect = (event: DisconnectEvent): void => push({ type: 'disconnect', ...event });
  const onReconnect = (event: ReconnectEvent): void => push({ type: 'reconnect', ...event });
  const onError = (error: ConsumerError): void => push({ type: 'error', error });
  const end = (): void => {
    ended = true;
    emitter.off('disconnect', onDisconnect);
    emitter.off('reconnect', onReconnect);
    emitter.off('error', onError);
    stop.removeEventListener('abort', end);
    wake?.();
  };
  if (!ended) {
    emitter.on('disconnect', onDisconnect);
    emitter.on('reconnect', onReconnect);
    emitter.on('error', onError);
    stop.addEventListener('abort', end);
  }

  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  const iterator: AsyncIterableIterator<StatusEvent> = {
    async next() {
      for (;;) {
        const event = queue.shift();
        if (event) return { done: false, value: event };
        if (ended) return done;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    async return() {
      end();
      queue.length = 0;
      return done;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
