import { partitionKey } from '@partq/partition';
import { PartqError, type Mutex } from '@partq/runtime';
import type { PartitionRow } from '@partq/schema';
import type { Logger } from 'pino';
import type { ClusterState } from '../state/cluster-state.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { PartitionOwnerChange } from '../store/owner-change.js';
import type { TransactionLog } from '../txlog/transaction-log.js';
import type { PartitionAssigner } from './partition-assigner.js';

/** A drained partition ready to go to its new owner. */
export interface HandOver {
  topicId: number;
  partitionId: number;
  /** The owner it was drained from (null: it had none); the hand-over fails if that changed meanwhile. */
  from: number | null;
  to: number;
  /** The owner is gone and was not drained: the new one starts at the high watermark. */
  ownerLost: boolean;
}

interface Queued extends HandOver {
  resolve(row: PartitionRow): void;
  reject(error: unknown): void;
}

/**
 * Hands drained partitions to their new owners, many at a time: the moves of a drain or a
 * rebalance run side by side, and each used to take the manager's lock, write a transaction-log
 * event and commit a PostgreSQL transaction of its own, one after another (~20–60 ms each on a
 * busy VM, so the last of 18 partitions waited ~0.4 s after its drain, its producers with it).
 * Hand-overs that arrive while the lock is busy go together: one event, one transaction, one push
 * of the new assignments to each broker concerned. Should that batch fail, each is tried alone, so
 * one partition's failure stays its own.
 */
export class HandOvers {
  private queued: Queued[] = [];

  constructor(
    private readonly state: ClusterState,
    private readonly store: MetadataStore,
    private readonly assigner: PartitionAssigner,
    private readonly lock: Mutex,
    private readonly txlog: TransactionLog,
    private readonly logger: Logger,
  ) {}

  /** Resolves with the partition's row under its new owner and epoch, once both brokers were told. */
  handOver(handOver: HandOver): Promise<PartitionRow> {
    return new Promise<PartitionRow>((resolve, reject) => {
      this.queued.push({ ...handOver, resolve, reject });
      // The first of a batch starts it; the lock's wait gathers the others.
      if (this.queued.length === 1) void this.runBatch();
    });
  }

  private async runBatch(): Promise<void> {
    let batch: Queued[] = [];
    try {
      const done = await this.lock.run(() => {
        // Taken once the lock is ours: hand-overs queued while it was busy go in this batch.
        batch = this.queued;
        this.queued = [];
        return this.commitBatch(batch);
      });
      await this.announce(done);
    } catch (error) {
      // Anything unforeseen fails the batch's moves (a settled promise ignores it), which then unfence.
      for (const queued of batch) queued.reject(error);
    }
  }

  /** Commits the batch's hand-overs still valid; those that are not, or whose commit fails, are rejected. */
  private async commitBatch(batch: Queued[]): Promise<{ queued: Queued; row: PartitionRow }[]> {
    const ready: { queued: Queued; change: PartitionOwnerChange }[] = [];
    for (const queued of batch) {
      const latest = this.state.partition(queued.topicId, queued.partitionId);
      if (!latest || latest.broker_id !== queued.from) {
        queued.reject(new PartqError('UNAVAILABLE', `partition ${partitionKey(queued.topicId, queued.partitionId)} changed owner during the move`));
        continue;
      }
      ready.push({ queued, change: { topicId: queued.topicId, partitionId: queued.partitionId, brokerId: queued.to, epoch: latest.epoch + 1, ownerLost: queued.ownerLost } });
    }
    if (ready.length === 0) return [];
    try {
      return this.zip(ready, await this.commit(ready.map((r) => r.change)));
    } catch (error) {
      if (ready.length === 1) {
        ready[0]!.queued.reject(error);
        return [];
      }
      this.logger.warn({ err: error, partitions: ready.length }, 'partition hand-over batch failed; handing them over one at a time');
    }
    const alone: { queued: Queued; row: PartitionRow }[] = [];
    for (const entry of ready) {
      try {
        alone.push(...this.zip([entry], await this.commit([entry.change])));
      } catch (error) {
        entry.queued.reject(error);
      }
    }
    return alone;
  }

  /** Logs the moves, tells the brokers concerned, then answers each hand-over. */
  private async announce(done: { queued: Queued; row: PartitionRow }[]): Promise<void> {
    if (done.length === 0) return;
    for (const { queued, row } of done) {
      this.logger.info({ topicId: queued.topicId, partition: queued.partitionId, from: queued.from, to: queued.to, epoch: row.epoch }, 'partition moved');
    }
    const previousOwners = done.map(({ queued }) => queued.from).filter((id): id is number => id !== null);
    await this.assigner.notifyOwners(
      done.map(({ row }) => row),
      [...new Set(previousOwners)],
    );
    for (const { queued, row } of done) queued.resolve(row);
  }

  /** One event and one transaction for these changes; the partitions leave the moving set as their new rows apply. */
  private async commit(changes: PartitionOwnerChange[]): Promise<PartitionRow[]> {
    const rows = await this.txlog.run({ kind: 'change-owners', changes }, () => this.store.changeOwners(changes));
    for (const change of changes) this.state.moving.delete(partitionKey(change.topicId, change.partitionId));
    this.state.apply({ partitions: rows });
    return rows;
  }

  private zip(ready: { queued: Queued }[], rows: PartitionRow[]): { queued: Queued; row: PartitionRow }[] {
    return ready.map(({ queued }, i) => ({ queued, row: rows[i]! }));
  }
}
