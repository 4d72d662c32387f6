import { create } from '@bufbuild/protobuf';
import { partitionKey } from '@partq/cluster';
import { planDrain, rebalance, type PartitionMove } from '@partq/partition';
import { PartitionOffsetSchema } from '@partq/proto';
import { fromConnectError, Mutex, PartqError, sleep } from '@partq/runtime';
import type { BrokerRow, DrainReason, PartitionRow } from '@partq/schema';
import type { Logger } from 'pino';
import type { BrokerClients } from '../membership/broker-clients.js';
import type { ClusterState } from '../state/cluster-state.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { TransactionLog } from '../txlog/transaction-log.js';
import { HandOvers } from './hand-overs.js';
import type { PartitionAssigner } from './partition-assigner.js';

export interface MoveReport {
  moved: { topicId: number; partitionId: number; from: number | null; to: number; epoch: number }[];
  failed: { topicId: number; partitionId: number; reason: string }[];
}

const MOVE_TIMEOUT_MS = 30_000;

/**
 * Moves live partitions between brokers without losing or reordering anything:
 * 1. fence: the owner refuses new appends and finishes the ones in flight;
 * 2. drain: the manager's sync commits everything the owner holds to PostgreSQL;
 * 3. hand over: the new owner gets the partition under a new epoch, starting at that
 *    high watermark, and the old owner lets it go.
 * Producers see a short NOT_OWNER window, which the gateway retries through.
 */
export class PartitionMover {
  /** Plans are made and carried out one at a time, so a drain and a rebalance never fight over a partition. */
  private readonly planning = new Mutex();

  private readonly handOvers: HandOvers;

  constructor(
    private readonly state: ClusterState,
    private readonly store: MetadataStore,
    private readonly assigner: PartitionAssigner,
    private readonly brokers: BrokerClients,
    lock: Mutex,
    txlog: TransactionLog,
    private readonly logger: Logger,
  ) {
    this.handOvers = new HandOvers(state, store, assigner, lock, txlog, logger);
  }

  /** Evens out partitions over the alive brokers (after a broker joined, or on request). */
  rebalance(): Promise<MoveReport> {
    return this.planning.run(() => this.rebalanceNow());
  }

  /**
   * Moves every partition off a broker, which is marked draining (no new partitions) first; `reason`
   * says whose drain it is (an operator's outranks the manager's own, for a full disk).
   */
  drain(brokerId: number, reason: DrainReason = 'operator'): Promise<MoveReport> {
    return this.planning.run(() => this.drainNow(brokerId, reason));
  }

  /**
   * Puts a draining broker back in service: partitions may be given to it again, and a rebalance
   * moves some back. A broker already alive stays as it is; a dead one comes back by registering.
   */
  resume(brokerId: number): Promise<BrokerRow> {
    return this.planning.run(() => this.resumeNow(brokerId));
  }

  private async resumeNow(brokerId: number): Promise<BrokerRow> {
    const broker = this.state.brokers.get(brokerId);
    if (!broker) throw new PartqError('NOT_FOUND', `broker ${brokerId} is not registered`);
    if (broker.state === 'dead') throw new PartqError('INVALID_ARGUMENT', `broker ${brokerId} is dead: it comes back into service when it registers again`);
    if (broker.state === 'draining') {
      // Conditional in the database: a broker found dead meanwhile stays dead.
      const row = await this.store.resumeDrainingBroker(brokerId);
      if (row) this.state.apply({ brokers: [row] });
    }
    return this.state.brokers.get(brokerId)!;
  }

  private async rebalanceNow(): Promise<MoveReport> {
    const placements = [...this.state.partitions.values()].map((p) => ({ topicId: p.topic_id, partitionId: p.partition_id, brokerId: p.broker_id }));
    return this.apply(rebalance(placements, this.state.aliveBrokerIds()));
  }

  private async drainNow(brokerId: number, reason: DrainReason): Promise<MoveReport> {
    const broker = this.state.brokers.get(brokerId);
    if (!broker) throw new PartqError('NOT_FOUND', `broker ${brokerId} is not registered`);
    if (broker.state === 'dead') throw new PartqError('INVALID_ARGUMENT', `broker ${brokerId} is dead: its partitions move by themselves`);
    const targets = this.state.aliveBrokerIds().filter((id) => id !== brokerId);
    if (targets.length === 0 && this.state.partitionsOwnedBy(brokerId).length > 0) {
      throw new PartqError('INVALID_ARGUMENT', `cannot drain broker ${brokerId}: no other alive broker to take its partitions`);
    }
    if (broker.state !== 'draining' || (reason === 'operator' && broker.drain_reason !== 'operator')) {
      const row = await this.store.markBrokerDraining(brokerId, reason);
      if (row) this.state.apply({ brokers: [row] });
    }
    const placements = [...this.state.partitions.values()].map((p) => ({ topicId: p.topic_id, partitionId: p.partition_id, brokerId: p.broker_id }));
    return this.apply(planDrain(placements, brokerId, targets));
  }

  private async apply(moves: PartitionMove[]): Promise<MoveReport> {
    const report: MoveReport = { moved: [], failed: [] };
    await Promise.all(
      moves.map(async (move) => {
        const topicId = Number(move.topicId);
        try {
          const row = await this.moveOne(topicId, move.partitionId, move.to);
          report.moved.push({ topicId, partitionId: move.partitionId, from: move.from, to: move.to, epoch: row.epoch });
        } catch (error) {
          this.logger.warn({ err: error, topicId, partition: move.partitionId, to: move.to }, 'partition move failed; it stays where it was');
          report.failed.push({ topicId, partitionId: move.partitionId, reason: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
    return report;
  }

  private async moveOne(topicId: number, partitionId: number, to: number): Promise<PartitionRow> {
    const key = partitionKey(topicId, partitionId);
    const current = this.state.partition(topicId, partitionId);
    if (!current) throw new PartqError('NOT_FOUND', `partition ${key} does not exist`);
    const from = current.broker_id;
    const owner = from === null ? undefined : this.state.brokers.get(from);
    if (this.state.moving.has(key)) throw new PartqError('UNAVAILABLE', `partition ${key} is already moving`);
    this.state.moving.add(key);
    try {
      if (owner && owner.state !== 'dead') {
        const client = this.brokers.get(owner.id);
        if (!client) throw new PartqError('UNAVAILABLE', `broker ${owner.id} has no address`);
        // 1. Fence (the answer comes once in-flight appends finished).
        await this.assigner.pushTo(owner.id, 10_000);
        let end = 0;
        try {
          const offsets = await client.getOffsets(
            { partitions: [create(PartitionOffsetSchema, { topicId, partitionId })] },
            { timeoutMs: 5_000 },
          );
          end = Number(offsets.endOffsets[0]?.offset ?? 0n);
        } catch (error) {
          // No file of it on the owner (it failed to create the partition, its disk being full): it
          // holds none of its records, so there is nothing to wait for.
          if (!holdsNothingOf(error)) throw error;
        }
        // 2. Wait for the sync loop to commit everything up to the final end.
        const deadline = Date.now() + MOVE_TIMEOUT_MS;
        while ((this.state.partition(topicId, partitionId)?.high_watermark ?? 0) < end) {
          if (Date.now() > deadline) throw new PartqError('UNAVAILABLE', `partition ${key} did not drain within ${MOVE_TIMEOUT_MS} ms`);
          await sleep(20);
        }
      }
      // 3. Hand over under a new epoch, together with the other moves ready by then. An owner that is
      // gone was not drained: the new one starts at the high watermark.
      return await this.handOvers.handOver({ topicId, partitionId, from, to, ownerLost: !owner || owner.state === 'dead' });
    } finally {
      if (this.state.moving.delete(key) && from !== null) {
        // The move was abandoned: let the owner take appends again.
        await this.assigner.notifyOwners([], [from]);
      }
    }
  }
}

/** The owner answered that it holds no files of the partition at all (see PartitionStore.require on the broker). */
function holdsNothingOf(error: unknown): boolean {
  const failure = fromConnectError(error);
  return failure.code === 'NOT_OWNER' && failure.details?.['absent'] === true;
}
