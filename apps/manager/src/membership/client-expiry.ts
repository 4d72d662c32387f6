import type { Mutex } from '@partq/runtime';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { ClusterState } from '../state/cluster-state.js';
import type { MetadataStore } from '../store/metadata-store.js';

export type ClientKind = 'producer' | 'consumer';

export interface ClientExpiryOptions {
  kind: ClientKind;
  /** A client that did nothing this long is removed. */
  expiryMs: number;
  /** Counts removals, labelled by kind. */
  expired: Counter<'kind'>;
}

/**
 * Removes producers or consumers idle for `expiryMs` (Kafka's offsets.retention.minutes and
 * transactional.id.expiration.ms, 7 days by default there too). Without it, a consumer registered
 * once and abandoned held back consumption retention of its topic for ever, and every producer id
 * ever handed out stayed in every role's memory. Gateways and replicas hear of a removal through
 * the metadata stream; the client's next call is NOT_FOUND (@partq/producer registers again by
 * itself). Activity: a consume call or an open consume stream for a consumer, a produce for a
 * producer.
 *
 * Activity reaches the manager from gateways and replicas about once a second, and only while the
 * manager runs: so nothing expires before this manager has been up for a whole `expiryMs` (a
 * manager that was down or just took over has not heard from anyone yet).
 */
export class ClientExpiry {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private running = false;

  constructor(
    private readonly store: Pick<MetadataStore, 'expireIdleClients'>,
    private readonly state: ClusterState,
    private readonly lock: Mutex,
    private readonly logger: Logger,
    private readonly options: ClientExpiryOptions,
  ) {}

  start(): void {
    const checkEveryMs = Math.min(10 * 60_000, Math.max(250, Math.floor(this.options.expiryMs / 4)));
    this.timer = setInterval(() => void this.runOnce(), checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async runOnce(now = Date.now()): Promise<number[]> {
    const { kind, expiryMs, expired } = this.options;
    if (this.running || now - this.startedAt < expiryMs) return [];
    this.running = true;
    try {
      // Under the metadata lock: a client is not removed while it is being registered or read.
      const ids = await this.lock.run(async () => {
        const removed = await this.store.expireIdleClients(kind, new Date(now - expiryMs));
        if (removed.length > 0) this.state.apply(kind === 'producer' ? { removedProducers: removed } : { removedConsumers: removed });
        return removed;
      });
      if (ids.length > 0) {
        expired.inc({ kind }, ids.length);
        this.logger.info({ kind, ids, idleMs: expiryMs }, `removed idle ${kind}s`);
      }
      return ids;
    } catch (error) {
      this.logger.warn({ err: error, kind }, 'client expiry failed');
      return [];
    } finally {
      this.running = false;
    }
  }
}
