import { PartqError } from '@partq/runtime';
import type { Logger } from 'pino';
import type { ClusterState } from '../state/cluster-state.js';
import { AwayTime } from './away-time.js';

/**
 * Replicas hold no state of their own (positions live in PostgreSQL), so their
 * membership lives in memory: after a manager restart they simply register again.
 */
export class ReplicaRegistry {
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private away: AwayTime | undefined;
  /** Addresses of replicas routed around: a heartbeat brings them back. */
  private readonly silent = new Map<number, string>();

  constructor(
    private readonly state: ClusterState,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  start(): void {
    const checkEveryMs = Math.max(100, Math.floor(this.timeoutMs / 2));
    this.away = new AwayTime(checkEveryMs);
    this.timer = setInterval(() => this.expire(), checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  register(address: string): number {
    const existing = [...this.state.replicas.values()].find((r) => r.address === address || this.silent.get(r.id) === address);
    const id = existing?.id ?? this.nextId++;
    this.silent.delete(id);
    this.state.apply({ replicas: [{ id, address, lastHeartbeat: new Date() }] });
    this.logger.info({ replica: id, address }, 'replica registered');
    return id;
  }

  heartbeat(replicaId: number): void {
    const replica = this.state.replicas.get(replicaId);
    if (!replica) throw new PartqError('NOT_FOUND', `replica ${replicaId} is not registered: register again`);
    const address = this.silent.get(replicaId);
    if (address !== undefined) {
      this.silent.delete(replicaId);
      this.state.apply({ replicas: [{ ...replica, address, lastHeartbeat: new Date() }] });
      this.logger.info({ replica: replicaId, address }, 'replica heard from again; routing to it');
      return;
    }
    replica.lastHeartbeat = new Date();
  }

  /**
   * A replica that stopped heartbeating is dropped from the metadata (address emptied) so gateways
   * route around it. Only time this manager was running counts (see AwayTime).
   */
  private expire(): void {
    const now = Date.now();
    const away = this.away?.sinceLastCheck(now) ?? 0;
    for (const replica of this.state.replicas.values()) {
      if (away > 0) replica.lastHeartbeat = new Date(replica.lastHeartbeat.getTime() + away);
      if (replica.address !== '' && now - replica.lastHeartbeat.getTime() > this.timeoutMs) {
        this.logger.warn({ replica: replica.id }, 'replica silent; routing around it');
        this.silent.set(replica.id, replica.address);
        this.state.apply({ replicas: [{ ...replica, address: '' }] });
      }
    }
  }
}
