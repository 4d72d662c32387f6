import { partitionKey } from '@partq/partition';
import type { ChangeSignal } from './change-signal.js';

/** What a change names: the partition whose log changed. */
export interface ChangedPartition {
  readonly topicId: number;
  readonly partitionId: number;
}

/** What RecordArrivals watches: the store's change signal and its current partition logs. */
export interface ArrivalSource {
  readonly changes: Pick<ChangeSignal<ChangedPartition>, 'listen' | 'unlisten'>;
  /** A partition's log; readers may see its records below `readableEnd`. */
  get(topicId: number, partitionId: number): { readonly readableEnd: number } | undefined;
}

interface Waiter {
  readonly topicId: number;
  readonly partitionId: number;
  readonly offset: number;
  /** The log waited on: a partition closed or replaced meanwhile releases its waiters too. */
  readonly log: object | undefined;
  wake(): void;
}

/**
 * Long-polled fetches waiting for the next record of a partition. One listener on the store's change
 * signal (fired when appended records become durable, or readable once committed) serves them all;
 * a change to one partition looks only at the waiters of that partition (a change that names none,
 * at every waiter) and releases those whose partition now holds a readable record at their offset,
 * so an append costs nothing per tail of another partition. The watch is a listener on the signal
 * for as long as anyone waits, not a wait per wake-up: a tail caught up is woken once per append,
 * hundreds of times a second, and an AbortController, a timer and a promise each time were ~4 % of
 * a broker's CPU.
 */
export class RecordArrivals {
  /** Waiters by partition (partitionKey). */
  private readonly waiters = new Map<string, Set<Waiter>>();
  private count = 0;
  /** Wakes the waiters whose partition has news; listens to the change signal while anyone waits. */
  private readonly onChange = (changed: ChangedPartition | undefined): void => {
    if (changed === undefined) {
      for (const waiting of this.waiters.values()) this.wakeArrived(waiting);
      return;
    }
    const waiting = this.waiters.get(partitionKey(changed.topicId, changed.partitionId));
    if (waiting) this.wakeArrived(waiting);
  };

  constructor(private readonly source: ArrivalSource) {}

  /** Fetches waiting now. */
  get waiting(): number {
    return this.count;
  }

  /**
   * Resolves once the partition holds a record at `offset` (or was closed or replaced), after
   * `timeoutMs`, or when `signal` aborts, whichever comes first. The caller reads the log again.
   */
  wait(topicId: number, partitionId: number, offset: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const log = this.source.get(topicId, partitionId);
      if (timeoutMs <= 0 || signal?.aborted || log === undefined || log.readableEnd > offset) {
        resolve();
        return;
      }
      const key = partitionKey(topicId, partitionId);
      let waiting = this.waiters.get(key);
      if (!waiting) this.waiters.set(key, (waiting = new Set()));
      const partitionWaiters = waiting;
      const waiter: Waiter = {
        topicId,
        partitionId,
        offset,
        log,
        wake: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', waiter.wake);
          if (partitionWaiters.delete(waiter)) {
            if (partitionWaiters.size === 0 && this.waiters.get(key) === partitionWaiters) this.waiters.delete(key);
            if (--this.count === 0) this.source.changes.unlisten(this.onChange);
          }
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      signal?.addEventListener('abort', waiter.wake, { once: true });
      if (this.count++ === 0) this.source.changes.listen(this.onChange);
      partitionWaiters.add(waiter);
    });
  }

  /** Releases every waiter now (shutdown: long-polls answer at once). */
  wakeAll(): void {
    for (const waiting of [...this.waiters.values()]) for (const waiter of [...waiting]) waiter.wake();
  }

  private wakeArrived(waiting: ReadonlySet<Waiter>): void {
    // A waiter woken here leaves the set while it is walked; a Set skips what was deleted.
    for (const waiter of waiting) if (this.arrived(waiter)) waiter.wake();
  }

  private arrived(waiter: Waiter): boolean {
    const log = this.source.get(waiter.topicId, waiter.partitionId);
    return log === undefined || log !== waiter.log || log.readableEnd > waiter.offset;
  }
}
