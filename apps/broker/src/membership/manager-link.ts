import type { Client } from '@connectrpc/connect';
import { ManagerService, type PartitionAssignment } from '@partq/proto';
import { createRpcClient, fromConnectError, sleep, type Logger } from '@partq/runtime';
import type { PartitionStore } from '../log/partition-store.js';
import type { StorageSpace } from '../log/storage-space.js';
import { toPartitionOffsets, toStoreAssignments } from './assignments.js';
import { readBrokerId, writeBrokerId } from './broker-identity.js';
import type { StallFence } from './stall-fence.js';

export interface ManagerLinkOptions {
  managerUrl: string;
  /** Where clients and the manager reach this broker. */
  advertisedUrl: string;
  dataDir: string;
  store: Pick<PartitionStore, 'generation' | 'endOffsets' | 'reconcile'>;
  logger: Logger;
  /** Told when the manager has answered and its assignment is applied. */
  stallFence?: StallFence;
  /** Whether the disk is full, said in every heartbeat (the manager then moves the partitions away). */
  space?: Pick<StorageSpace, 'full'>;
  /** Used until the manager names one. */
  defaultHeartbeatIntervalMs?: number;
  /** Per-call deadline of RegisterBroker / BrokerHeartbeat. */
  callTimeoutMs?: number;
  /** Backoff bounds while the manager is unreachable. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

const DEFAULTS = { defaultHeartbeatIntervalMs: 1000, callTimeoutMs: 10_000, minBackoffMs: 100, maxBackoffMs: 5000 };

/**
 * The broker's membership: RegisterBroker (with the id remembered in broker.json) and then a heartbeat every
 * interval the manager asked for, counted from when the last one left. Every answer, the registration's
 * too, is the broker's complete assignment and is reconciled in the order the answers came; heartbeats
 * do not wait for it.
 * While the manager is unreachable the broker keeps serving what it owns and retries with backoff;
 * a NOT_FOUND answer (the manager forgot this broker) starts a fresh registration.
 */
export class ManagerLink {
  private readonly client: Client<typeof ManagerService>;
  private readonly settings: typeof DEFAULTS;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private id: number | undefined;
  private registeredOnce = false;
  private heartbeatIntervalMs: number;
  private readonly registrationWaiters: ((brokerId: number) => void)[] = [];
  /** The reconcile of the manager's last answer. */
  private applying: Promise<void> = Promise.resolve();
  /** Ends the current wait between heartbeats early (see `heartbeatNow`). */
  private wake = new AbortController();

  constructor(private readonly options: ManagerLinkOptions) {
    this.client = createRpcClient(ManagerService, options.managerUrl);
    this.settings = {
      defaultHeartbeatIntervalMs: options.defaultHeartbeatIntervalMs ?? DEFAULTS.defaultHeartbeatIntervalMs,
      callTimeoutMs: options.callTimeoutMs ?? DEFAULTS.callTimeoutMs,
      minBackoffMs: options.minBackoffMs ?? DEFAULTS.minBackoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
    };
    this.heartbeatIntervalMs = this.settings.defaultHeartbeatIntervalMs;
  }

  /** The id the manager gave this broker (also the remembered one before re-registering); 0 if never registered. */
  get brokerId(): number {
    return this.id ?? 0;
  }

  /**
   * True once the assignment a RegisterBroker (or a later heartbeat) answered with is applied; stays true
   * while heartbeats fail: the broker keeps serving.
   */
  get registered(): boolean {
    return this.registeredOnce;
  }

  /** Starts registering and heartbeating in the background. */
  async start(): Promise<void> {
    this.id = await readBrokerId(this.options.dataDir);
    this.loop = this.run();
  }

  /** Resolves with the broker id once registered and its first assignment applied (at once if it is). */
  whenRegistered(): Promise<number> {
    if (this.registeredOnce) return Promise.resolve(this.brokerId);
    return new Promise((resolve) => this.registrationWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.applying;
  }

  /** Sends the next heartbeat (or registration attempt) now instead of after the interval. */
  heartbeatNow(): void {
    this.wake.abort();
  }

  /** Waits `ms`, or less if `heartbeatNow` is called; rejects only when the link stops. */
  private async pause(ms: number): Promise<void> {
    if (this.wake.signal.aborted) {
      // Asked for during the call that just ended: go at once.
      this.wake = new AbortController();
      return;
    }
    const woken = this.wake.signal;
    await sleep(ms, AbortSignal.any([this.stopping.signal, woken])).catch((error: unknown) => {
      if (this.stopping.signal.aborted || !woken.aborted) throw error;
      // This wake-up is spent: the next pause waits again.
      this.wake = new AbortController();
    });
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    let needsRegistration = true;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const sentAt = Date.now();
        if (needsRegistration) {
          await this.register();
          needsRegistration = false;
        } else {
          await this.heartbeat();
        }
        if (failures > 0) this.options.logger.info({ failures }, 'broker: manager reachable again');
        failures = 0;
        // A slow answer shortens the wait, so the manager hears from this broker every interval.
        await this.pause(Math.max(0, this.heartbeatIntervalMs - (Date.now() - sentAt)));
      } catch (error) {
        if (signal.aborted) break;
        const partq = fromConnectError(error);
        if (partq.code === 'NOT_FOUND') {
          if (!needsRegistration) {
            this.options.logger.warn({ brokerId: this.id }, 'broker: the manager does not know this broker; registering again');
            needsRegistration = true;
            continue;
          }
          // The manager does not know the remembered id either: join as a new broker.
          this.options.logger.warn({ brokerId: this.id }, 'broker: the manager refused the remembered broker id; registering as new');
          this.id = undefined;
        }
        failures++;
        const log = failures === 1 ? this.options.logger.warn.bind(this.options.logger) : this.options.logger.debug.bind(this.options.logger);
        log(
          { err: partq, code: partq.code, failures, managerUrl: this.options.managerUrl },
          needsRegistration ? 'broker: registration failed; retrying' : 'broker: heartbeat failed; still serving owned partitions',
        );
        await this.pause(this.backoff(failures)).catch(() => undefined);
      }
    }
  }

  private async register(): Promise<void> {
    const { store } = this.options;
    const basis = store.generation;
    const sentAt = Date.now();
    const answer = await this.client.registerBroker(
      {
        address: this.options.advertisedUrl,
        ...(this.id === undefined ? {} : { brokerId: this.id }),
        endOffsets: toPartitionOffsets(store.endOffsets()),
      },
      { timeoutMs: this.settings.callTimeoutMs, signal: this.stopping.signal },
    );
    if (answer.brokerId !== this.id) {
      await writeBrokerId(this.options.dataDir, answer.brokerId);
      this.id = answer.brokerId;
    }
    if (answer.heartbeatIntervalMs > 0) this.heartbeatIntervalMs = answer.heartbeatIntervalMs;
    this.fitStallFence(answer.brokerTimeoutMs);
    this.options.logger.info(
      { brokerId: this.id, partitions: answer.assignments.length, heartbeatIntervalMs: this.heartbeatIntervalMs },
      'broker: registered with the manager',
    );
    // Not waited for, as a heartbeat's: a broker that re-registers after the manager forgot it may be
    // handed many partitions, and the heartbeats must start while they are created.
    this.apply(answer.assignments, basis, sentAt);
  }

  private async heartbeat(): Promise<void> {
    const { store } = this.options;
    const basis = store.generation;
    const sentAt = Date.now();
    const answer = await this.client.brokerHeartbeat(
      { brokerId: this.brokerId, endOffsets: toPartitionOffsets(store.endOffsets()), diskFull: this.options.space?.full ?? false },
      { timeoutMs: this.settings.callTimeoutMs, signal: this.stopping.signal },
    );
    this.fitStallFence(answer.brokerTimeoutMs);
    this.apply(answer.assignments, basis, sentAt);
  }

  /**
   * Queues the reconcile of a complete assignment the manager answered with, so it is applied in the
   * order it came among the manager's Assigns, but does not wait for it: creating or fencing partitions
   * can take seconds on a loaded machine, and heartbeats that waited for it fell silent until the
   * manager declared this live broker dead, and with it what it had acknowledged with acks=broker.
   */
  private apply(assignments: PartitionAssignment[], basis: number, sentAt: number): void {
    this.applying = this.options.store.reconcile(toStoreAssignments(assignments), true, basis).then(
      () => {
        // The fence lifts only once the answer is applied: a partition moved away while this broker
        // was stalled is gone before appends are taken again.
        this.options.stallFence?.confirmed(sentAt);
        // Ready once the first assignment is in place, not merely once the manager knows the broker.
        if (!this.registeredOnce) {
          this.registeredOnce = true;
          for (const resolve of this.registrationWaiters.splice(0)) resolve(this.brokerId);
        }
      },
      (error: unknown) => this.options.logger.warn({ err: error }, 'broker: applying the manager’s assignment failed; the next heartbeat tries again'),
    );
  }

  /** 0: a manager too old to say; the fence keeps its setting. */
  private fitStallFence(brokerTimeoutMs: number): void {
    if (brokerTimeoutMs > 0) this.options.stallFence?.fitTo(brokerTimeoutMs, this.heartbeatIntervalMs);
  }

  /** Exponential with jitter, so brokers restarted together do not hit the manager in step. */
  private backoff(failures: number): number {
    const ceiling = Math.min(this.settings.maxBackoffMs, this.settings.minBackoffMs * 2 ** Math.min(failures - 1, 20));
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  }
}
