import { create } from '@bufbuild/protobuf';
import { assignPartitions, partitionKey } from '@partq/partition';
import { PartitionAssignmentSchema, type PartitionAssignment } from '@partq/proto';
import type { PartitionRow } from '@partq/schema';
import type { Logger } from 'pino';
import type { BrokerClients } from '../membership/broker-clients.js';
import type { ClusterState } from '../state/cluster-state.js';
import type { Mutex } from '@partq/runtime';
import type { MetadataStore } from '../store/metadata-store.js';
import type { PartitionOwnerChange } from '../store/owner-change.js';
import type { TransactionLog } from '../txlog/transaction-log.js';
import { AssignmentPusher } from './assignment-pusher.js';

/**
 * Decides which broker owns which partition and tells the brokers. A partition that
 * changes owner gets a new epoch, which fences its previous owner.
 */
export class PartitionAssigner {
  private readonly pusher: AssignmentPusher;

  constructor(
    private readonly state: ClusterState,
    private readonly store: MetadataStore,
    brokers: BrokerClients,
    private readonly lock: Mutex,
    private readonly txlog: TransactionLog,
    private readonly logger: Logger,
  ) {
    this.pusher = new AssignmentPusher(brokers, (brokerId) => this.assignmentsFor(brokerId));
  }

  /** Owners for the partitions of a new topic: balanced against what live brokers already hold. */
  ownersForNewTopic(partitionCount: number): (number | null)[] {
    const alive = this.state.aliveBrokerIds();
    if (alive.length === 0) return Array.from({ length: partitionCount }, () => null);
    const existing = [...this.state.partitions.values()].map((p) => ({ topicId: p.topic_id, partitionId: p.partition_id, brokerId: p.broker_id }));
    const fresh = Array.from({ length: partitionCount }, (_, p) => ({ topicId: 'new', partitionId: p, brokerId: null }));
    const plan = assignPartitions([...existing, ...fresh], alive);
    return fresh.map((p) => plan.get(partitionKey(p.topicId, p.partitionId)) ?? null);
  }

  /** Moves partitions whose owner is dead (or that have none) to the least-loaded live brokers. */
  async reassignOrphans(): Promise<void> {
    const moved = await this.lock.run(async () => {
      const alive = this.state.aliveBrokerIds();
      if (alive.length === 0) return [];
      const load = new Map<number, number>(alive.map((id) => [id, 0]));
      const orphans: PartitionRow[] = [];
      for (const p of [...this.state.partitions.values()].sort((a, b) => a.topic_id - b.topic_id || a.partition_id - b.partition_id)) {
        const owner = p.broker_id === null ? undefined : this.state.brokers.get(p.broker_id);
        // A draining owner still runs: its partitions leave it by the drain's fenced moves, not here.
        if (owner && owner.state !== 'dead') {
          if (load.has(owner.id)) load.set(owner.id, load.get(owner.id)! + 1);
        } else {
          orphans.push(p);
        }
      }
      if (orphans.length === 0) return [];
      const changes: PartitionOwnerChange[] = orphans.map((p) => {
        const target = [...load.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0])[0]![0];
        load.set(target, load.get(target)! + 1);
        return { topicId: p.topic_id, partitionId: p.partition_id, brokerId: target, epoch: p.epoch + 1, ownerLost: true };
      });
      const rows = await this.txlog.run({ kind: 'change-owners', changes }, () => this.store.changeOwners(changes));
      this.state.apply({ partitions: rows });
      for (const row of rows) {
        this.logger.info({ topicId: row.topic_id, partition: row.partition_id, broker: row.broker_id, epoch: row.epoch }, 'partition reassigned');
      }
      return rows;
    });
    await this.notifyOwners(moved);
  }

  /** The complete assignment of a broker, as it is sent on register, heartbeat and Assign. */
  assignmentsFor(brokerId: number): PartitionAssignment[] {
    return this.state.partitionsOwnedBy(brokerId).map((p) =>
      create(PartitionAssignmentSchema, {
        topicId: p.topic_id,
        partitionId: p.partition_id,
        epoch: p.epoch,
        // A broker that missed an epoch change truncates to here: everything below is committed.
        startOffset: BigInt(p.high_watermark),
        highWatermark: BigInt(p.high_watermark),
        fenced: this.state.moving.has(partitionKey(p.topic_id, p.partition_id)),
      }),
    );
  }

  /**
   * Pushes the broker its complete assignment as it is now, after any push already on its way (see
   * AssignmentPusher); rejects when the broker did not apply it.
   */
  pushTo(brokerId: number, timeoutMs: number): Promise<void> {
    return this.pusher.push(brokerId, timeoutMs);
  }

  /** Pushes the full assignment to each owner of these partitions (heartbeats repair a lost push). */
  async notifyOwners(partitions: PartitionRow[], alsoBrokers: number[] = []): Promise<void> {
    const owners = new Set([...partitions.map((p) => p.broker_id).filter((id): id is number => id !== null), ...alsoBrokers]);
    await Promise.all(
      [...owners].map(async (brokerId) => {
        if (!this.state.brokers.has(brokerId)) return;
        try {
          await this.pushTo(brokerId, 3000);
        } catch (error) {
          this.logger.warn({ err: error, broker: brokerId }, 'could not push assignment; the next heartbeat carries it');
        }
      }),
    );
  }
}
