import type { Client } from '@connectrpc/connect';
import type { MetadataView } from '@partq/cluster';
import { BrokerState, type ManagerService } from '@partq/proto';
import { MANAGER_CALL_TIMEOUT_MS, managerCall } from '../cluster/manager-call.js';

export interface BrokerHealth {
  brokerId: number;
  address: string;
  state: string;
  lastHeartbeatMs: number;
  /** Its last heartbeat said its disk is full (the manager drains it). */
  diskFull: boolean;
}

export interface ClientHealth {
  id: number;
  /** Topic name ('' when this gateway does not know the client yet). */
  topic: string;
  status: string;
  lastActivityMs: number;
}

export interface ReplicaHealth {
  replicaId: number;
  address: string;
  status: string;
  lastHeartbeatMs: number;
}

/** A broker whose syncs to the Central DB keep failing (its disk full, say). */
export interface FailingSync {
  brokerId: number;
  reason: string;
  /** When its last sync succeeded; 0 if none has since the manager started. */
  lastSyncedMs: number;
}

export interface ClusterHealth {
  brokers: BrokerHealth[];
  producers: ClientHealth[];
  consumers: ClientHealth[];
  replicas: ReplicaHealth[];
  failingSyncs: FailingSync[];
}

/** Lower-case name of a broker state as the REST API shows it: alive, dead, draining, unknown. */
export function brokerStateName(state: BrokerState): string {
  switch (state) {
    case BrokerState.ALIVE:
      return 'alive';
    case BrokerState.DEAD:
      return 'dead';
    case BrokerState.DRAINING:
      return 'draining';
    default:
      return 'unknown';
  }
}

/** The manager's health-check tables (last seen of every broker, producer, consumer and replica), with names from the view. */
export class HealthReport {
  constructor(
    private readonly manager: Client<typeof ManagerService>,
    private readonly view: MetadataView,
  ) {}

  async cluster(): Promise<ClusterHealth> {
    const answer = await managerCall(() => this.manager.getHealth({}, { timeoutMs: MANAGER_CALL_TIMEOUT_MS }));
    const health: ClusterHealth = { brokers: [], producers: [], consumers: [], replicas: [], failingSyncs: [] };
    for (const entry of answer.entries) {
      const lastSeenMs = Number(entry.lastSeenMs);
      switch (entry.kind) {
        case 'broker': {
          const broker = this.view.broker(entry.id);
          health.brokers.push({
            brokerId: entry.id,
            address: broker?.address ?? entry.detail,
            state: entry.status || (broker ? brokerStateName(broker.state) : 'unknown'),
            lastHeartbeatMs: lastSeenMs,
            diskFull: entry.diskFull,
          });
          break;
        }
        case 'producer': {
          const producer = this.view.producer(entry.id);
          health.producers.push(this.client(entry.id, producer?.topicId, entry.status, lastSeenMs));
          break;
        }
        case 'consumer': {
          const consumer = this.view.consumer(entry.id);
          health.consumers.push(this.client(entry.id, consumer?.topicId, entry.status, lastSeenMs));
          break;
        }
        case 'replica': {
          const replica = this.view.replicas().find((r) => r.id === entry.id);
          health.replicas.push({ replicaId: entry.id, address: replica?.address ?? entry.detail, status: entry.status, lastHeartbeatMs: lastSeenMs });
          break;
        }
        case 'sync':
          health.failingSyncs.push({ brokerId: entry.id, reason: entry.detail, lastSyncedMs: lastSeenMs });
          break;
      }
    }
    return health;
  }

  private client(id: number, topicId: number | undefined, status: string, lastActivityMs: number): ClientHealth {
    const topic = topicId === undefined ? '' : (this.view.topicById(topicId)?.name ?? '');
    return { id, topic, status, lastActivityMs };
  }
}
