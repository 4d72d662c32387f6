import type { Client } from '@connectrpc/connect';
import type { ManagerService } from '@partq/proto';
import { fromConnectError, sleep, type Logger } from '@partq/runtime';

export interface ReplicaMembershipOptions {
  manager: Pick<Client<typeof ManagerService>, 'registerReplica' | 'replicaHeartbeat'>;
  /** URL the manager hands out for this replica. */
  address: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Backoff between failed registrations. */
  retryDelayMs?: number;
}

const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000;
const DEFAULT_RETRY_DELAY_MS = 500;
const CALL_TIMEOUT_MS = 5000;

/**
 * The replica's membership of the cluster: registers with the manager, then heartbeats at the
 * interval the manager asks for. A manager that forgot the replica (it answers NOT_FOUND, e.g. after
 * losing its state or expiring a stalled replica) gets a new registration.
 */
export class ReplicaMembership {
  private readonly abort = new AbortController();
  private id: number | undefined;
  private intervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: ReplicaMembershipOptions) {}

  /** The id the manager gave; undefined before the first registration. */
  get replicaId(): number | undefined {
    return this.id;
  }

  /** Registers (retrying until the manager answers or `stop`) and starts heartbeating; resolves with the id. */
  async start(): Promise<number> {
    const id = await this.register();
    this.loop = this.heartbeat();
    return id;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async register(): Promise<number> {
    const { manager, address, logger } = this.options;
    const signal = this.abort.signal;
    for (;;) {
      try {
        const answer = await manager.registerReplica({ address }, { signal, timeoutMs: CALL_TIMEOUT_MS });
        this.id = answer.replicaId;
        this.intervalMs = answer.heartbeatIntervalMs > 0 ? answer.heartbeatIntervalMs : DEFAULT_HEARTBEAT_INTERVAL_MS;
        logger.info({ replicaId: this.id, address }, 'registered with the manager');
        return this.id;
      } catch (error) {
        if (signal.aborted) throw fromConnectError(error);
        logger.warn({ err: fromConnectError(error) }, 'registering with the manager failed; retrying');
        await sleep(this.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, signal);
      }
    }
  }

  private async heartbeat(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        await sleep(this.intervalMs, signal);
        await this.options.manager.replicaHeartbeat({ replicaId: this.id ?? 0 }, { signal, timeoutMs: CALL_TIMEOUT_MS });
      } catch (error) {
        if (signal.aborted) return;
        const failure = fromConnectError(error);
        if (failure.code === 'NOT_FOUND') {
          this.options.logger.warn({ replicaId: this.id }, 'the manager does not know this replica; registering again');
          await this.register().catch(() => undefined);
        } else {
          this.options.logger.warn({ err: failure, replicaId: this.id }, 'heartbeat to the manager failed');
        }
      }
    }
  }
}
