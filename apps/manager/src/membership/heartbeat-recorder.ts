import type { BrokerState } from '@partq/schema';
import type { Logger } from 'pino';
import type { MetadataStore } from '../store/metadata-store.js';

interface Beat {
  at: Date;
  state: BrokerState;
}

/**
 * Writes what the manager hears of brokers to the Central DB (`brokers.last_heartbeat_at` and the
 * health-check table) in the background: the latest per broker, one write at a time, in order.
 *
 * Why not in the heartbeat call: a broker sends its next heartbeat only once the last one is
 * answered, so a heartbeat that waited for PostgreSQL would let a slow or stalled database silence
 * every broker, and the manager would declare them all dead (seen with PostgreSQL stopped for 8 s:
 * all three brokers declared dead, one acknowledged message lost). Liveness is judged in memory; the
 * table is for operators and the status page.
 */
export class HeartbeatRecorder {
  private readonly pending = new Map<number, Beat>();
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<MetadataStore, 'recordBrokerHeartbeat' | 'recordBrokerHealth'>,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /** Queues the broker's latest state and time seen (an earlier one not written yet is replaced). */
  record(brokerId: number, state: BrokerState, at: Date): void {
    this.pending.set(brokerId, { at, state });
    this.flushing ??= this.flush();
  }

  /** Resolves once everything recorded so far is written (or failed). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const beats = [...this.pending];
        this.pending.clear();
        for (const [brokerId, beat] of beats) {
          try {
            await this.store.recordBrokerHeartbeat(brokerId, beat.at);
            await this.store.recordBrokerHealth(brokerId, beat.state, beat.at);
          } catch (error) {
            this.logger.warn({ err: error, broker: brokerId }, 'could not record a broker heartbeat; the next one will be');
          }
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}
