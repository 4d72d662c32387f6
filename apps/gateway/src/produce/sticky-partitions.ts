/**
 * Where messages go that name no partition and carry neither a key nor a sequence (REST, one
 * message per request, say): per topic, one partition at a time, moving on to the next each time an
 * Append to it comes back (round robin by batch, as Kafka's sticky partitioner does).
 *
 * Why: spread one message per partition, concurrent requests land on every partition and each
 * Append carries three or four of them (measured: 16 REST connections, 3 partitions). Kept on one
 * partition while an Append to it is in flight, they queue in one lane of the AppendCoalescer and
 * go out together, so the broker's RPC and fsync are shared by many requests. A request that finds
 * the partition idle is still sent at once, so nothing waits longer than it did; with no
 * concurrency every Append comes back before the next request and the partition moves on every
 * time: plain round robin.
 */
export class StickyPartitions {
  private readonly current = new Map<number, number>();

  constructor(private readonly start: () => number = () => Math.floor(Math.random() * 0x7fffffff)) {}

  /** The topic's partition for such messages now. */
  partitionFor(topicId: number, partitionCount: number): number {
    const current = this.current.get(topicId);
    if (current !== undefined && current < partitionCount) return current;
    const first = this.start() % partitionCount;
    this.current.set(topicId, first);
    return first;
  }

  /** An Append to `partitionId` came back (or failed): if it was the topic's current partition, the next one takes over. */
  settled(topicId: number, partitionId: number, partitionCount: number): void {
    if (this.current.get(topicId) === partitionId) this.current.set(topicId, (partitionId + 1) % partitionCount);
  }
}
