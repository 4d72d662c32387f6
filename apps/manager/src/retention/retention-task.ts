import type { Mutex } from '@partq/runtime';
import type { Database, PartitionRow } from '@partq/schema';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { ClusterState } from '../state/cluster-state.js';
import { applyConsumptionRetention } from './consumption-retention.js';
import { judgeLimits, moveLimitedStarts } from './limit-retention.js';

/**
 * Runs retention every interval, consumption-based and then the topics' time and size limits, and
 * streams the new log start offsets.
 */
export class RetentionTask {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly state: ClusterState,
    private readonly lock: Mutex,
    private readonly logger: Logger,
    private readonly deletedMessages: Counter<'rule'>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Publishes the moved log starts and counts what went, by the rule that let it go. */
  private note(rule: 'consumed' | 'limit', { partitions, deleted }: { partitions: PartitionRow[]; deleted: number }): void {
    if (partitions.length > 0) this.state.apply({ partitions });
    if (deleted === 0) return;
    this.deletedMessages.inc({ rule }, deleted);
    this.logger.debug({ deleted, partitions: partitions.length, rule }, rule === 'consumed' ? 'retention deleted consumed messages' : 'retention deleted messages past their topic\'s time or size limit');
  }

  async runOnce(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // The limits are judged before taking the metadata lock, which syncs need too; the moves and
      // deletes hold it (high watermarks move only under it, and the rows published stay current).
      const limited = await judgeLimits(this.db);
      await this.lock.run(async () => {
        this.note('consumed', await applyConsumptionRetention(this.db));
        this.note('limit', await moveLimitedStarts(this.db, limited));
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'retention run failed');
    } finally {
      this.running = false;
    }
  }
}
