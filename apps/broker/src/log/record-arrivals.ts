import type { ChangeSignal } from './change-signal.js';

/** What RecordArrivals watches: the store's change signal and its current partition logs. */
export interface ArrivalSource {
  readonly changes: Pick<ChangeSignal, 'listen' | 'unlisten'>;
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
 * each wake-up looks only at the partitions someone waits on and releases the waiters whose
 * partition now holds a readable record at their offset, so an append to one partition does not
 * wake the fetches of every other. The watch is a listener on the signal for as long as anyone
 * waits, not a wait per wake-up: a tail caught up is woken once per append, hundreds of times a
 * second, and an AbortController, a timer and a promise each time were ~4 % of a broker's CPU.
 */
export class RecordArrivals {
  private readonly waiters = new Set<Waiter>();
  /** Wakes the waiters whose partition has news; listens to the change signal while anyone waits. */
  private readonly onChange = (): void => {
    for (const waiter of this.waiters) if (this.arrived(waiter)) waiter.wake();
  };

  constructor(private readonly source: ArrivalSource) {}

  /** Fetches waiting now. */
  get waiting(): number {
    return this.waiters.size;
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
      const waiter: Waiter = {
        topicId,
        partitionId,
        offset,
        log,
        wake: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', waiter.wake);
          if (this.waiters.delete(waiter) && this.waiters.size === 0) this.source.changes.unlisten(this.onChange);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      signal?.addEventListener('abort', waiter.wake, { once: true });
      if (this.waiters.size === 0) this.source.changes.listen(this.onChange);
      this.waiters.add(waiter);
    });
  }

  /** Releases every waiter now (shutdown: long-polls answer at once). */
  wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  private arrived(waiter: Waiter): boolean {
    const log = this.source.get(waiter.topicId, waiter.partitionId);
    return log === undefined || log !== waiter.log || log.readableEnd > waiter.offset;
  }
}
