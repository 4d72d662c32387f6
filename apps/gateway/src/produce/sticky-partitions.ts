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
/** An Append to the current partition outstanding longer than this moves new messages on (its broker may be stalled or dead). */
export const DEFAULT_STALL_MS = 200;

interface Current {
  partition: number;
  /** When the oldest Append to it that has not come back went out. */
  sentAt: number | undefined;
}

export interface StickyPartitionsOptions {
  /** The first partition of a topic (modulo its count); random by default, so gateways do not all start on 0. */
  start?: () => number;
  stallMs?: number;
  now?: () => number;
  /** Told when a topic leaves a partition whose Append was out longer than `stallMs`. */
  onStall?: (topicId: number, partitionId: number) => void;
}

export class StickyPartitions {
  private readonly current = new Map<number, Current>();
  private readonly start: () => number;
  private readonly stallMs: number;
  private readonly now: () => number;

  constructor(private readonly options: StickyPartitionsOptions = {}) {
    this.start = options.start ?? (() => Math.floor(Math.random() * 0x7fffffff));
    this.stallMs = options.stallMs ?? DEFAULT_STALL_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * The topic's partition for such messages now. A partition whose Append has been out longer than
   * the stall limit is left for the next: without that, every request would queue behind a broker
   * that stopped answering until the manager moves its partitions, where round robin by message
   * delayed only a share of them.
   */
  partitionFor(topicId: number, partitionCount: number): number {
    const current = this.current.get(topicId);
    if (current !== undefined && current.partition < partitionCount) {
      if (current.sentAt === undefined || this.now() - current.sentAt <= this.stallMs) return current.partition;
      this.options.onStall?.(topicId, current.partition);
      return this.moveOn(topicId, current.partition, partitionCount);
    }
    const first = this.start() % partitionCount;
    this.current.set(topicId, { partition: first, sentAt: undefined });
    return first;
  }

  /** An Append to `partitionId` went out. */
  sent(topicId: number, partitionId: number): void {
    const current = this.current.get(topicId);
    if (current?.partition === partitionId) current.sentAt ??= this.now();
  }

  /** An Append to `partitionId` came back (or failed): if it was the topic's current partition, the next one takes over. */
  settled(topicId: number, partitionId: number, partitionCount: number): void {
    if (this.current.get(topicId)?.partition === partitionId) this.moveOn(topicId, partitionId, partitionCount);
  }

  private moveOn(topicId: number, partitionId: number, partitionCount: number): number {
    const next = (partitionId + 1) % partitionCount;
    this.current.set(topicId, { partition: next, sentAt: undefined });
    return next;
  }
}
