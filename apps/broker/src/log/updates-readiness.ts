import { PartitionMap } from '@partq/partition';
import type { ChangedPartition } from './record-arrivals.js';

/** What UpdatesReadiness asks of a partition's log. */
export interface PendingSource {
  get(topicId: number, partitionId: number): { readonly commitWaiters: number; readonly movingAway: boolean; pendingSince(from: number): number } | undefined;
}

/** A partition the manager asks about, and the offset it has committed up to. */
export interface WantedPartition {
  readonly topicId: number;
  readonly partitionId: number;
  readonly from: number;
}

interface Counted {
  readonly topicId: number;
  readonly partitionId: number;
  from: number;
  pending: number;
}

/**
 * What the manager's GetUpdates waits for: `minRecords` pending past its `from` over the partitions
 * it names, an acks=all append waiting on one of them, or records pending on one being moved away
 * (the manager hands it over only once they are committed, and producers of it wait meanwhile:
 * without this the move waited out the sync interval, up to a second). The count is kept per partition and
 * brought up to date for the partition a change names: an Append costs a look at its own
 * partition, where counting afresh looked at every partition the broker owns (5–6 % of a broker's
 * busy time with ~28 partitions each; docs/performance-log.md, round 44).
 */
export class UpdatesReadiness {
  /** In the order asked: a count afresh walks this array (a walk over the map's nested iterators cost ~3x more per partition). */
  private readonly counted: Counted[] = [];
  private readonly byPartition = new PartitionMap<Counted>();
  private total = 0;
  private commitWaiting = false;
  private handOverWaiting = false;

  constructor(
    private readonly logs: PendingSource,
    wanted: readonly WantedPartition[],
    private readonly minRecords: number,
  ) {
    for (const { topicId, partitionId, from } of wanted) {
      const known = this.byPartition.get(topicId, partitionId);
      if (known) {
        known.from = from;
        continue;
      }
      const counted = { topicId, partitionId, from, pending: 0 };
      this.counted.push(counted);
      this.byPartition.set(topicId, partitionId, counted);
    }
  }

  /** Whether the answer should go now that `changed` changed (undefined: anything may have; counts afresh). */
  ready(changed?: ChangedPartition): boolean {
    if (changed === undefined) {
      for (const counted of this.counted) this.count(counted);
    } else {
      const counted = this.byPartition.get(changed.topicId, changed.partitionId);
      if (counted) this.count(counted);
    }
    return this.commitWaiting || this.handOverWaiting || this.total >= this.minRecords;
  }

  private count(counted: Counted): void {
    const log = this.logs.get(counted.topicId, counted.partitionId);
    const pending = log ? log.pendingSince(counted.from) : 0;
    // Waiters only come while the wait lasts (each one ends it): once seen, the answer goes.
    if (log && log.commitWaiters > 0) this.commitWaiting = true;
    if (log?.movingAway && pending > 0) this.handOverWaiting = true;
    this.total += pending - counted.pending;
    counted.pending = pending;
  }
}
