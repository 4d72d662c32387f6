import { create } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import type { MetadataView } from '@partq/cluster';
import { BrokerPartitionsSchema, type BrokerPartitions, type HealthEntry, type ManagerService, type PartitionMove } from '@partq/proto';
import { managerCall } from '../cluster/manager-call.js';

/** Moving partitions can take a while: fencing, a last sync, the hand-over. */
const MOVE_CALL_TIMEOUT_MS = 120_000;

/** Cluster administration: brokers and their partitions, drain, rebalance, the health-check tables. */
export class ClusterAdmin {
  constructor(
    private readonly manager: Client<typeof ManagerService>,
    private readonly view: MetadataView,
  ) {}

  /** Every broker with the partitions it owns, from this gateway's view of the metadata. */
  brokers(): BrokerPartitions[] {
    const owned = new Map<number, ReturnType<MetadataView['partitionsOf']>>();
    for (const topic of this.view.topics()) {
      for (const partition of this.view.partitionsOf(topic.id)) {
        owned.set(partition.brokerId, [...(owned.get(partition.brokerId) ?? []), partition]);
      }
    }
    return this.view.brokers().map((broker) => create(BrokerPartitionsSchema, { broker, partitions: owned.get(broker.id) ?? [] }));
  }

  async drain(brokerId: number): Promise<PartitionMove[]> {
    const answer = await managerCall(() => this.manager.drainBroker({ brokerId }, { timeoutMs: MOVE_CALL_TIMEOUT_MS }));
    return answer.moves;
  }

  async rebalance(): Promise<PartitionMove[]> {
    const answer = await managerCall(() => this.manager.rebalance({}, { timeoutMs: MOVE_CALL_TIMEOUT_MS }));
    return answer.moves;
  }

  async health(): Promise<HealthEntry[]> {
    const answer = await managerCall(() => this.manager.getHealth({}, { timeoutMs: 5000 }));
    return answer.entries;
  }
}
