/** Consumers whose cursor is remembered; beyond this the least recently used are forgotten (they restart at 0). */
const DEFAULT_MAX_CONSUMERS = 100_000;

/**
 * Where each whole-topic consumer's next consume starts looking, so partitions are taken in turn
 * and a busy partition cannot starve the others.
 */
export class PartitionCursor {
  private readonly next = new Map<number, number>();

  constructor(private readonly maxConsumers = DEFAULT_MAX_CONSUMERS) {}

  /** `partitionIds` (ascending) rotated to begin at the consumer's turn. */
  order(consumerId: number, partitionIds: readonly number[]): number[] {
    const start = this.next.get(consumerId) ?? 0;
    const index = partitionIds.findIndex((id) => id >= start);
    if (index <= 0) return [...partitionIds];
    return [...partitionIds.slice(index), ...partitionIds.slice(0, index)];
  }

  /** The consumer was just served from `partitionId`: the next consume starts after it. */
  served(consumerId: number, partitionId: number): void {
    this.next.delete(consumerId);
    this.next.set(consumerId, partitionId + 1);
    if (this.next.size > this.maxConsumers) {
      const oldest = this.next.keys().next();
      if (!oldest.done) this.next.delete(oldest.value);
    }
  }
}
