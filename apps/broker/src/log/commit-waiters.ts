import { PartqError } from '@partq/runtime';

interface Waiter {
  readonly lastOffset: number;
  readonly resolve: () => void;
  readonly reject: (error: PartqError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * acks=all appends of one partition waiting for the manager to commit their last offset to PostgreSQL.
 * `committed` is the high watermark: every offset below it is committed.
 */
export class CommitWaiters {
  private readonly waiters = new Set<Waiter>();

  get size(): number {
    return this.waiters.size;
  }

  /**
   * Resolves once `release(c)` is called with c > lastOffset; rejects with UNAVAILABLE after `timeoutMs`
   * (the record stays in the WAL and will still be committed: the producer may retry with its sequence).
   */
  wait(lastOffset: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        lastOffset,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(
            new PartqError('UNAVAILABLE', `acks=all: offset ${lastOffset} was not committed within ${timeoutMs} ms`, {
              lastOffset,
              timeoutMs,
            }),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Resolves every waiter whose last offset is below `committed`. */
  release(committed: number): void {
    for (const waiter of this.waiters) {
      if (waiter.lastOffset < committed) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** Rejects every waiter (the partition was lost, or the broker is stopping). */
  failAll(error: PartqError): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiters.clear();
  }
}
