import { Batch, batchKey, entryBytes, type BatchEntry, type BatchTarget } from './batch.js';
import type { PendingSend } from './pending-send.js';

export interface AccumulatorOptions {
  lingerMs: number;
  maxBatchCount: number;
  maxBatchBytes: number;
  /** Receives each batch once it is full, has lingered long enough, or is flushed. */
  onSealed: (batch: Batch) => void;
}

interface OpenBatch {
  batch: Batch;
  /** Seals the batch when it has lingered long enough; cancel() stops it. */
  cancel: () => void;
}

/**
 * Gathers messages into one open batch per (topic, producer id, acks) and seals it when it reaches
 * maxBatchCount or maxBatchBytes, or when lingerMs has passed since its first message: many small
 * sends become one Send RPC. A message that would push a batch over the byte limit starts the next
 * batch; a single message larger than the limit travels alone (the gateway judges its size).
 */
export class Accumulator {
  private readonly open = new Map<string, OpenBatch>();
  /** Each target's key, made once: the producer hands the same target object to every send of it. */
  private readonly keys = new WeakMap<BatchTarget, string>();
  private flushing = 0;

  constructor(private readonly options: AccumulatorOptions) {}

  append(target: BatchTarget, entry: BatchEntry): void {
    let key = this.keys.get(target);
    if (key === undefined) {
      key = batchKey(target);
      this.keys.set(target, key);
    }
    let slot = this.open.get(key);
    if (slot && slot.batch.bytes + entryBytes(entry.message) > this.options.maxBatchBytes) {
      this.seal(key);
      slot = undefined;
    }
    if (!slot) {
      const batch = new Batch(target);
      // While a flush waits, batches leave on the next turn of the event loop instead of lingering.
      const lingerMs = this.flushing > 0 ? 0 : this.options.lingerMs;
      slot = { batch, cancel: this.scheduleSeal(lingerMs, () => this.sealIfOpen(key, batch)) };
      this.open.set(key, slot);
    }
    slot.batch.add(entry);
    if (slot.batch.count >= this.options.maxBatchCount || slot.batch.bytes >= this.options.maxBatchBytes) this.seal(key);
  }

  /** Seals every open batch now, and makes batches opened until `endFlush` leave without lingering. */
  beginFlush(): void {
    this.flushing++;
    for (const key of [...this.open.keys()]) this.seal(key);
  }

  endFlush(): void {
    this.flushing--;
  }

  /** Takes an aborted send()'s messages out of the open batches. */
  withdraw(owner: PendingSend): void {
    for (const [key, slot] of [...this.open]) {
      if (slot.batch.withdraw(owner) > 0 && slot.batch.count === 0) {
        slot.cancel();
        this.open.delete(key);
      }
    }
  }

  /**
   * No linger means "after the sends of this turn of the event loop": setImmediate, not setTimeout(0),
   * which Node stretches to 1 ms, a fixed wait on every one-at-a-time send.
   */
  private scheduleSeal(lingerMs: number, seal: () => void): () => void {
    if (lingerMs === 0) {
      const immediate = setImmediate(seal);
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(seal, lingerMs);
    return () => clearTimeout(timer);
  }

  private sealIfOpen(key: string, batch: Batch): void {
    if (this.open.get(key)?.batch === batch) this.seal(key);
  }

  private seal(key: string): void {
    const slot = this.open.get(key);
    if (!slot) return;
    slot.cancel();
    this.open.delete(key);
    if (slot.batch.count > 0) this.options.onSealed(slot.batch);
  }
}
