import { PartqError } from '@partq/runtime';
import type { BrokerRow } from '@partq/schema';
import type { Logger } from 'pino';
import type { PartitionAssigner } from '../assignment/partition-assigner.js';
import type { ClusterState } from '../state/cluster-state.js';
import type { MetadataStore } from '../store/metadata-store.js';
import { AwayTime } from './away-time.js';
import { HeartbeatRecorder } from './heartbeat-recorder.js';

export interface BrokerRegistryOptions {
  brokerTimeoutMs: number;
  /** Called when a broker becomes alive (start its log sync) or dead (stop it). */
  onAlive: (broker: BrokerRow) => void;
  /** Called after a broker registered and orphaned partitions were placed (e.g. to rebalance). */
  onJoined?: (broker: BrokerRow) => void;
}

/**
 * Broker membership: registration, heartbeats, and the verdict that a silent broker is
 * dead, after which its partitions move to live brokers under a new epoch.
 */
export class BrokerRegistry {
  private readonly lastSeen = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly checkEveryMs: number;
  private away: AwayTime | undefined;
  private checking = false;
  private readonly recorder: HeartbeatRecorder;

  constructor(
    private readonly state: ClusterState,
    private readonly store: MetadataStore,
    private readonly assigner: PartitionAssigner,
    private readonly logger: Logger,
    private readonly options: BrokerRegistryOptions,
  ) {
    this.checkEveryMs = Math.max(100, Math.floor(options.brokerTimeoutMs / 4));
    this.recorder = new HeartbeatRecorder(store, logger);
  }

  /**
   * Brokers the database remembers as alive or draining get a full timeout to show up after a
   * manager restart, and their syncs start: a draining broker may still hold records to commit
   * (its partitions cannot move until they are), and one drained for its disk may be resumed.
   * Brokers do not register again when a manager restarts; they go on heartbeating.
   */
  start(): void {
    const now = Date.now();
    for (const broker of this.state.brokers.values()) {
      if (broker.state !== 'dead') {
        this.lastSeen.set(broker.id, now);
        this.options.onAlive(broker);
      }
    }
    this.away = new AwayTime(this.checkEveryMs, now);
    this.timer = setInterval(() => void this.detectDead(), this.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async register(address: string, knownId: number | undefined): Promise<BrokerRow> {
    const row = await this.store.registerBroker(address, knownId);
    this.lastSeen.set(row.id, Date.now());
    this.state.apply({ brokers: [row] });
    this.recorder.record(row.id, row.state, new Date());
    this.logger.info({ broker: row.id, address }, 'broker registered');
    this.options.onAlive(row);
    await this.assigner.reassignOrphans();
    this.options.onJoined?.(row);
    return row;
  }

  /** Answered from memory: see HeartbeatRecorder for why the database write is not waited for. */
  heartbeat(brokerId: number): void {
    const broker = this.state.brokers.get(brokerId);
    if (!broker || broker.state === 'dead') {
      throw new PartqError('NOT_FOUND', `broker ${brokerId} is not registered (or was declared dead): register again`);
    }
    const now = new Date();
    this.lastSeen.set(brokerId, now.getTime());
    this.recorder.record(brokerId, broker.state, now);
    this.state.brokers.set(brokerId, { ...broker, last_heartbeat_at: now });
  }

  /** Runs one check at a time: a check waiting on a slow database must not be joined by the next. */
  private async detectDead(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.declareSilentBrokersDead();
    } finally {
      this.checking = false;
    }
  }

  private async declareSilentBrokersDead(): Promise<void> {
    const now = Date.now();
    this.creditOwnPause(now);
    for (const broker of [...this.state.brokers.values()]) {
      if (broker.state === 'dead') continue;
      const seen = this.lastSeenOf(broker);
      if (now - seen <= this.options.brokerTimeoutMs) continue;
      // A drained broker owns nothing to move: declaring it dead would only lose the drain (it would
      // come back 'alive' on its next registration and take partitions again).
      if (broker.state === 'draining' && this.state.partitionsOwnedBy(broker.id).length === 0) continue;
      try {
        const row = await this.store.setBrokerState(broker.id, 'dead');
        if (!row) continue;
        if ((this.lastSeen.get(broker.id) ?? seen) > seen) {
          // Heard from while the verdict was being written (a slow database): it was not dead.
          await this.store.setBrokerState(broker.id, broker.state);
          continue;
        }
        this.state.apply({ brokers: [row] });
        this.recorder.record(broker.id, 'dead', new Date());
        this.logger.warn({ broker: broker.id, silentMs: now - seen }, 'broker declared dead');
        await this.assigner.reassignOrphans();
      } catch (error) {
        this.logger.error({ err: error, broker: broker.id }, 'could not declare broker dead');
      }
    }
  }

  /**
   * Silence counts only while this manager was listening. A manager that was stopped (SIGSTOP, a VM
   * stall) or blocked for longer than the timeout would otherwise wake up to every broker looking
   * silent, and declare one dead before the heartbeats queued meanwhile are read: its partitions
   * would move and its acks=broker records not yet synced would be lost. Brokers are credited
   * the time this manager was away.
   */
  private creditOwnPause(now: number): void {
    const away = this.away?.sinceLastCheck(now) ?? 0;
    if (away === 0) return;
    for (const broker of this.state.brokers.values()) {
      if (broker.state === 'dead') continue;
      const seen = this.lastSeenOf(broker);
      this.lastSeen.set(broker.id, seen + away);
    }
    this.logger.warn({ awayMs: away }, 'this manager was not running for a while; brokers get that time back before any is declared dead');
  }

  /** When this manager last heard from the broker (the database's record until it hears it itself). */
  private lastSeenOf(broker: BrokerRow): number {
    return this.lastSeen.get(broker.id) ?? broker.last_heartbeat_at.getTime();
  }
}
