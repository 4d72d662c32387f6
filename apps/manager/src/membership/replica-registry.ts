import { PartqError } from '@partq/runtime';
import type { Logger } from 'pino';
import type { ClusterState } from '../state/cluster-state.js';

/**
 * Replicas hold no state of their own (positions live in PostgreSQL), so their
 * membership lives in memory: after a manager restart they simply register again.
 */
export class ReplicaRegistry {
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: ClusterState,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.expire(), Math.max(100, Math.floor(this.timeoutMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  register(address: string): number {
    const existing = [...this.state.replicas.values()].find((r) => r.address === address);
    const id = existing?.id ?? this.nextId++;
    this.state.apply({ replicas: [{ id, address, lastHeartbeat: new Date() }] });
    this.logger.info({ replica: id, address }, 'replica registered');
    return id;
  }

  heartbeat(replicaId: number): void {
    const replica = this.state.replicas.get(replicaId);
    if (!replica) throw new PartqError('NOT_FOUND', `replica ${replicaId} is not registered: register again`);
    replica.lastHeartbeat = new Date();
  }

  /** A replica that stopped heartbeating is dropped from the metadata (address emptied) so gateways route around it. */
  private expire(): void {
    const now = Date.now();
    for (const replica of this.state.replicas.values()) {
      if (replica.address !== '' && now - replica.lastHeartbeat.getTime() > this.timeoutMs) {
        this.logger.warn({ replica: replica.id }, 'replica silent; routing around it');
        this.state.apply({ replicas: [{ ...replica, address: '' }] });
      }
    }
  }
}
