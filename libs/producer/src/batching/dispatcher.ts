import type { Batch } from './batch.js';
import type { PendingSend } from './pending-send.js';

/**
 * Sends sealed batches with at most `maxInFlight` Send RPCs at a time, oldest first, and applies
 * backpressure: while a sealed batch waits for a free slot, send() waits before adding messages,
 * so a producer that outpaces the gateway holds a bounded amount of memory.
 *
 * While a batch waits to retry (its `retrying` callback was called), no new batch goes out. Why:
 * a broker remembers a producer's last 8192 sequences per partition to recognise a retry; new
 * batches flowing past one that backs off for seconds pushed its sequences out of that window, and
 * its retry was refused (OUT_OF_ORDER_SEQUENCE) though it may have landed. Held back, at most the
 * other batches already on the wire get ahead of it.
 */
export class Dispatcher {
  private readonly ready: Batch[] = [];
  private inFlight = 0;
  /** Batches on the wire that failed an attempt and have not settled. */
  private readonly retrying = new Set<Batch>();
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly maxInFlight: number,
    /** Sends one batch and settles its messages; never rejects. Calls `retrying` when an attempt failed and another will follow. */
    private readonly sendBatch: (batch: Batch, retrying: () => void) => Promise<void>,
  ) {}

  /** Batches on the wire right now. */
  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Sealed batches waiting for a free slot. */
  get waitingCount(): number {
    return this.ready.length;
  }

  enqueue(batch: Batch): void {
    this.ready.push(batch);
    this.pump();
  }

  /**
   * Resolves when a send() may add messages to batches: no sealed batch is waiting and no earlier
   * waiter either (first come, first served). The admission queue waits here for all of its sends.
   */
  admission(): Promise<void> {
    if (this.admitsNow) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.add(resolve));
  }

  /** Whether admission() would resolve at once. */
  get admitsNow(): boolean {
    return this.ready.length === 0 && this.waiters.size === 0;
  }

  /** Takes an aborted send()'s messages out of the batches that have not been sent yet. */
  withdraw(owner: PendingSend): void {
    for (const batch of this.ready) batch.withdraw(owner);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.retrying.size === 0 && this.ready.length > 0) {
      const batch = this.ready.shift()!;
      if (batch.count === 0) continue; // every message of it was withdrawn
      this.inFlight++;
      batch.sent = true;
      void this.sendBatch(batch, () => void this.retrying.add(batch))
        .catch(() => undefined)
        .finally(() => {
          this.inFlight--;
          this.retrying.delete(batch);
          this.pump();
        });
    }
    // Drop batches emptied by withdrawal, then let waiting sends in once nothing sealed is queued.
    for (let i = this.ready.length - 1; i >= 0; i--) if (this.ready[i]!.count === 0) this.ready.splice(i, 1);
    if (this.ready.length === 0 && this.waiters.size > 0) {
      const admitted = [...this.waiters];
      this.waiters.clear();
      for (const admit of admitted) admit();
    }
  }
}
