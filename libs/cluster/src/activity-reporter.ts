import type { Client } from '@connectrpc/connect';
import type { ManagerService } from '@partq/proto';
import type { Logger } from 'pino';

/**
 * Collects which producers and consumers were active and reports them to the manager
 * in one call per interval, so the health-check tables stay current without a write
 * per message.
 */
export class ActivityReporter {
  private producers = new Set<number>();
  private consumers = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly manager: Client<typeof ManagerService>,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  producerActive(id: number): void {
    this.producers.add(id);
  }

  consumerActive(id: number): void {
    this.consumers.add(id);
  }

  async flush(): Promise<void> {
    if (this.producers.size === 0 && this.consumers.size === 0) return;
    const producerIds = [...this.producers];
    const consumerIds = [...this.consumers];
    this.producers = new Set();
    this.consumers = new Set();
    try {
      await this.manager.reportActivity({ producerIds, consumerIds });
    } catch (error) {
      // Activity is advisory: keep it for the next round rather than fail anything.
      for (const id of producerIds) this.producers.add(id);
      for (const id of consumerIds) this.consumers.add(id);
      this.logger.warn({ err: error }, 'could not report activity to the manager');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
