import { create } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import type { MetadataView } from '@partq/cluster';
import { BrokerPartitionsSchema, type Broker, type BrokerPartitions, type HealthEntry, type ManagerService, type PartitionMove } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import { managerCall } from '../cluster/manager-call.js';

/** Moving partitions can take a while: fencing, a last sync, the hand-over. */
const MOVE_CALL_TIMEOUT_MS = 120_000;
/** The brokers' list waits this long for the manager's heartbeats before it answers with the view's own. */
const HEARTBEATS_TIMEOUT_MS = 2000;

/** Cluster administration: brokers and their partitions, drain and resume, rebalance, the health-check tables. */
export class ClusterAdmin {
  constructor(
    private readonly manager: Client<typeof ManagerService>,
    private readonly view: MetadataView,
  ) {}

  /**
   * Every broker with the partitions it owns, from this gateway's view of the metadata, each with
   * its last heartbeat as the manager heard it: the view learns of a heartbeat only with a change
   * of the metadata, so its own figure could be minutes old. Without the manager, the view's.
   */
  async brokers(): Promise<BrokerPartitions[]> {
    const heard = await this.brokerHealth();
    const owned = new Map<number, ReturnType<MetadataView['partitionsOf']>>();
    for (const topic of this.view.topics()) {
      for (const partition of this.view.partitionsOf(topic.id)) {
        owned.set(partition.brokerId, [...(owned.get(partition.brokerId) ?? []), partition]);
      }
    }
    return this.view.brokers().map((broker) => {
      const health = heard.get(broker.id);
      return create(BrokerPartitionsSchema, {
        broker: health === undefined ? broker : { ...broker, lastHeartbeatMs: health.lastSeenMs },
        partitions: owned.get(broker.id) ?? [],
        diskFull: health?.diskFull ?? false,
      });
    });
  }

  /** What the manager last heard of each broker (its health table); empty when it cannot say. */
  private async brokerHealth(): Promise<Map<number, HealthEntry>> {
    try {
      const entries = await this.health(HEARTBEATS_TIMEOUT_MS);
      return new Map(entries.filter((entry) => entry.kind === 'broker').map((entry) => [entry.id, entry]));
    } catch {
      return new Map();
    }
  }

  async drain(brokerId: number): Promise<PartitionMove[]> {
    const answer = await managerCall(() => this.manager.drainBroker({ brokerId }, { timeoutMs: MOVE_CALL_TIMEOUT_MS }));
    return answer.moves;
  }

  /** A draining broker back in service; the broker as it is now. */
  async resume(brokerId: number): Promise<Broker> {
    const answer = await managerCall(() => this.manager.resumeBroker({ brokerId }, { timeoutMs: MOVE_CALL_TIMEOUT_MS }));
    if (!answer.broker) throw new PartqError('INTERNAL', `the manager answered no broker for broker ${brokerId}`);
    return answer.broker;
  }

  async rebalance(): Promise<PartitionMove[]> {
    const answer = await managerCall(() => this.manager.rebalance({}, { timeoutMs: MOVE_CALL_TIMEOUT_MS }));
    return answer.moves;
  }

  async health(timeoutMs = 5000): Promise<HealthEntry[]> {
    const answer = await managerCall(() => this.manager.getHealth({}, { timeoutMs }));
    return answer.entries;
  }
}
