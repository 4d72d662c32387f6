import type { Mutex } from '@partq/runtime';
import type { Database } from '@partq/schema';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { ClusterState } from '../state/cluster-state.js';
import { applyConsumptionRetention } from './consumption-retention.js';

/** Runs consumption-based retention every interval and streams the new log start offsets. */
export class RetentionTask {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly state: ClusterState,
    private readonly lock: Mutex,
    private readonly logger: Logger,
    private readonly deletedMessages: Counter,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async runOnce(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // Under the metadata lock: high watermarks move only under it too.
      const { partitions, deleted } = await this.lock.run(async () => {
        const result = await applyConsumptionRetention(this.db);
        if (result.partitions.length > 0) this.state.apply({ partitions: result.partitions });
        return result;
      });
      if (deleted > 0) {
        this.deletedMessages.inc(deleted);
        this.logger.debug({ deleted, partitions: partitions.length }, 'retention deleted consumed messages');
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'retention run failed');
    } finally {
      this.running = false;
    }
  }
}
