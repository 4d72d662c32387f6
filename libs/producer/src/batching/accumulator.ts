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
  timer: NodeJS.Timeout;
}

/**
 * Gathers messages into one open batch per (topic, producer id, acks) and seals it when it reaches
 * maxBatchCount or maxBatchBytes, or when lingerMs has passed since its first message: many small
 * sends become one Send RPC. A message that would push a batch over the byte limit starts the next
 * batch; a single message larger than the limit travels alone (the gateway judges its size).
 */
export class Accumulator {
  private readonly open = new Map<string, OpenBatch>();
  private flushing = 0;

  constructor(private readonly options: AccumulatorOptions) {}

  append(target: BatchTarget, entry: BatchEntry): void {
    const key = batchKey(target);
    let slot = this.open.get(key);
    if (slot && slot.batch.bytes + entryBytes(entry.message) > this.options.maxBatchBytes) {
      this.seal(key);
      slot = undefined;
    }
    if (!slot) {
      const batch = new Batch(target);
      // While a flush waits, batches leave on the next turn of the event loop instead of lingering.
      const lingerMs = this.flushing > 0 ? 0 : this.options.lingerMs;
      slot = { batch, timer: setTimeout(() => this.sealIfOpen(key, batch), lingerMs) };
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
        clearTimeout(slot.timer);
        this.open.delete(key);
      }
    }
  }

  private sealIfOpen(key: string, batch: Batch): void {
    if (this.open.get(key)?.batch === batch) this.seal(key);
  }

  private seal(key: string): void {
    const slot = this.open.get(key);
    if (!slot) return;
    clearTimeout(slot.timer);
    this.open.delete(key);
    if (slot.batch.count > 0) this.options.onSealed(slot.batch);
  }
}
