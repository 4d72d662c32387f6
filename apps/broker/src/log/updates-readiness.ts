import { partitionKey } from '@partq/partition';
import type { ChangedPartition } from './record-arrivals.js';

/** What UpdatesReadiness asks of a partition's log. */
export interface PendingSource {
  get(topicId: number, partitionId: number): { readonly commitWaiters: number; pendingSince(from: number): number } | undefined;
}

/** A partition the manager asks about, and the offset it has committed up to. */
export interface WantedPartition {
  readonly topicId: number;
  readonly partitionId: number;
  readonly from: number;
}

interface Counted extends WantedPartition {
  pending: number;
}

/**
 * What the manager's GetUpdates waits for: `minRecords` pending past its `from` over the partitions
 * it names, or an acks=all append waiting on one of them. The count is kept per partition and
 * brought up to date for the partition a change names: an Append costs a look at its own
 * partition, where counting afresh looked at every partition the broker owns (5–6 % of a broker's
 * busy time with ~28 partitions each; docs/performance-log.md, round 44).
 */
export class UpdatesReadiness {
  private readonly wanted = new Map<string, Counted>();
  private total = 0;
  private commitWaiting = false;

  constructor(
    private readonly logs: PendingSource,
    wanted: readonly WantedPartition[],
    private readonly minRecords: number,
  ) {
    for (const { topicId, partitionId, from } of wanted) this.wanted.set(partitionKey(topicId, partitionId), { topicId, partitionId, from, pending: 0 });
  }

  /** Whether the answer should go now that `changed` changed (undefined: anything may have; counts afresh). */
  ready(changed?: ChangedPartition): boolean {
    if (changed === undefined) {
      for (const counted of this.wanted.values()) this.count(counted);
    } else {
      const counted = this.wanted.get(partitionKey(changed.topicId, changed.partitionId));
      if (counted) this.count(counted);
    }
    return this.commitWaiting || this.total >= this.minRecords;
  }

  private count(counted: Counted): void {
    const log = this.logs.get(counted.topicId, counted.partitionId);
    const pending = log ? log.pendingSince(counted.from) : 0;
    // Waiters only come while the wait lasts (each one ends it): once seen, the answer goes.
    if (log && log.commitWaiters > 0) this.commitWaiting = true;
    this.total += pending - counted.pending;
    counted.pending = pending;
  }
}
