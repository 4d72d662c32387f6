import type { Batch } from './batch.js';

/**
 * Where the keyless messages of each batch go: all of one batch to one partition, the next batch to
 * the next partition (round robin by batch, as Kafka's sticky partitioner does).
 *
 * Why: spread one message per partition, a batch of n messages costs the cluster an append, an
 * fsync, a fetch and a delivery on every partition; kept together it costs one of each. Over many
 * batches the partitions still get equal shares. The partition is written into the messages before
 * the batch is encoded, so a retried batch goes where its first attempt went and is de-duplicated
 * there. Messages with a key (hashed by the gateway) or a partition of their own keep it.
 */
export class BatchPartitions {
  private next: number;

  constructor(start = Math.floor(Math.random() * 0x7fffffff)) {
    this.next = start;
  }

  /** Gives the batch's keyless messages without a partition the batch's partition, out of `partitionCount`. */
  place(batch: Batch, partitionCount: number): void {
    // A count we cannot use (an older gateway that did not say): leave the choice to the gateway.
    if (!Number.isSafeInteger(partitionCount) || partitionCount < 1) return;
    let partition: number | undefined;
    for (const { message } of batch.entries) {
      if (message.partitionId !== undefined || (message.key !== undefined && message.key.byteLength > 0)) continue;
      partition ??= this.take(partitionCount);
      message.partitionId = partition;
    }
  }

  private take(partitionCount: number): number {
    const partition = this.next % partitionCount;
    // Wraps long before losing integer precision.
    this.next = (this.next + 1) % 0x80000000;
    return partition;
  }
}
