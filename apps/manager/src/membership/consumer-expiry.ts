import type { Mutex } from '@partq/runtime';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { ClusterState } from '../state/cluster-state.js';
import type { MetadataStore } from '../store/metadata-store.js';

/**
 * Removes consumers that made no consume call and kept no stream open for `expiryMs` (Kafka's
 * offsets.retention.minutes, 7 days by default there too). Without it, a consumer registered once
 * and abandoned held back consumption retention of its topic for ever. Gateways and replicas hear
 * of the removal through the metadata stream; the consumer's next call is NOT_FOUND.
 *
 * Activity reaches the manager from gateways and replicas about once a second, and only while the
 * manager runs: so nothing expires before this manager has been up for a whole `expiryMs` (a
 * manager that was down or just took over has not heard from anyone yet).
 */
export class ConsumerExpiry {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private running = false;

  constructor(
    private readonly store: Pick<MetadataStore, 'expireIdleConsumers'>,
    private readonly state: ClusterState,
    private readonly lock: Mutex,
    private readonly logger: Logger,
    private readonly expired: Counter,
    private readonly expiryMs: number,
  ) {}

  start(): void {
    const checkEveryMs = Math.min(10 * 60_000, Math.max(250, Math.floor(this.expiryMs / 4)));
    this.timer = setInterval(() => void this.runOnce(), checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async runOnce(now = Date.now()): Promise<number[]> {
    if (this.running || now - this.startedAt < this.expiryMs) return [];
    this.running = true;
    try {
      // Under the metadata lock: a consumer is not removed while it is being registered or read.
      const ids = await this.lock.run(async () => {
        const removed = await this.store.expireIdleConsumers(new Date(now - this.expiryMs));
        if (removed.length > 0) this.state.apply({ removedConsumers: removed });
        return removed;
      });
      if (ids.length > 0) {
        this.expired.inc(ids.length);
        this.logger.info({ consumers: ids, idleMs: this.expiryMs }, 'removed idle consumers');
      }
      return ids;
    } catch (error) {
      this.logger.warn({ err: error }, 'consumer expiry failed');
      return [];
    } finally {
      this.running = false;
    }
  }
}
