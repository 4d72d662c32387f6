import { entryBytes, type Batch } from './batch.js';

/** A topic's current partition for keyless messages, and the bytes placed on it since it became current. */
interface Stint {
  partition: number;
  bytes: number;
}

/**
 * Where keyless messages go: all of a batch to one partition, and the topic's following batches to
 * the same partition until `stickyBytes` have gone to it; then the next partition takes over (Kafka's
 * uniform sticky partitioner, KIP-794). With `stickyBytes` 0 every batch moves on (round robin by batch).
 *
 * Why: spread one message per partition, a batch of n messages costs the cluster an append, an
 * fsync, a fetch and a delivery on every partition; kept together it costs one of each. Moving on
 * with every batch still spreads a run of small batches (a producer with little linger) over every
 * partition's broker, each of which then wakes from idle for each of its batches, which costs a
 * process on a small machine about twice the CPU of the same work back to back. Staying a while
 * lets one broker take a run of them warm, and the gateway coalesce those that overlap. Over time
 * the partitions still get equal shares of the bytes.
 *
 * The partition is written into the messages before the batch is encoded, so a retried batch goes
 * where its first attempt went and is de-duplicated there. Messages with a key (hashed by the
 * gateway) or a partition of their own keep it and do not count.
 */
export class BatchPartitions {
  private next: number;
  private readonly stints = new Map<string, Stint>();

  constructor(
    private readonly stickyBytes: number,
    start = Math.floor(Math.random() * 0x7fffffff),
  ) {
    this.next = start;
  }

  /** Gives the batch's keyless messages without a partition the topic's current partition, out of `partitionCount`. */
  place(batch: Batch, partitionCount: number): void {
    // A count we cannot use (an older gateway that did not say): leave the choice to the gateway.
    if (!Number.isSafeInteger(partitionCount) || partitionCount < 1) return;
    let stint: Stint | undefined;
    let placed = 0;
    for (const { message } of batch.entries) {
      if (message.partitionId !== undefined || (message.key !== undefined && message.key.byteLength > 0)) continue;
      stint ??= this.stintFor(batch.target.topic, partitionCount);
      message.partitionId = stint.partition;
      placed += entryBytes(message);
    }
    if (stint !== undefined) stint.bytes += placed;
  }

  private stintFor(topic: string, partitionCount: number): Stint {
    const stint = this.stints.get(topic);
    if (stint !== undefined && stint.partition < partitionCount && stint.bytes < this.stickyBytes) return stint;
    const next: Stint = { partition: this.take(partitionCount), bytes: 0 };
    this.stints.set(topic, next);
    return next;
  }

  private take(partitionCount: number): number {
    const partition = this.next % partitionCount;
    // Wraps long before losing integer precision.
    this.next = (this.next + 1) % 0x80000000;
    return partition;
  }
}
