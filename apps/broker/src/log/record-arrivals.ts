import type { ChangeSignal } from './change-signal.js';

/** What RecordArrivals watches: the store's change signal and its current partition logs. */
export interface ArrivalSource {
  readonly changes: Pick<ChangeSignal, 'next'>;
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
 * The reason the shared watch's sleep is cut short. Given, because abort() without one builds a
 * DOMException with a stack trace, once per wake-up of a tail or long-poll.
 */
const NOBODY_WAITS = new Error('nobody waits for records any more');

/** How long the shared watch sleeps without a change before it looks again (it is woken on every change). */
const WATCH_INTERVAL_MS = 60_000;

/**
 * Long-polled fetches waiting for the next record of a partition. One wait on the store's change
 * signal (fired when appended records become durable, or readable once committed) serves them all;
 * each wake-up looks only at the partitions someone waits on and releases the waiters whose
 * partition now holds a readable record at their offset, so an append to one partition does not
 * wake the fetches of every other.
 */
export class RecordArrivals {
  private readonly waiters = new Set<Waiter>();
  private watching = false;
  /** Ends the shared watch's sleep early once nobody waits any more. */
  private idle: AbortController | undefined;

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
          this.waiters.delete(waiter);
          if (this.waiters.size === 0) this.idle?.abort(NOBODY_WAITS);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      signal?.addEventListener('abort', waiter.wake, { once: true });
      this.waiters.add(waiter);
      this.watch();
    });
  }

  /** Releases every waiter now (shutdown: long-polls answer at once). */
  wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.waiters.size > 0) {
        this.idle = new AbortController();
        await this.source.changes.next(WATCH_INTERVAL_MS, this.idle.signal);
        // From the wake-up to the next wait nothing awaits, so no change can slip in between.
        for (const waiter of [...this.waiters]) if (this.arrived(waiter)) waiter.wake();
      }
    } finally {
      this.idle = undefined;
      this.watching = false;
    }
  }

  private arrived(waiter: Waiter): boolean {
    const log = this.source.get(waiter.topicId, waiter.partitionId);
    return log === undefined || log !== waiter.log || log.readableEnd > waiter.offset;
  }
}
