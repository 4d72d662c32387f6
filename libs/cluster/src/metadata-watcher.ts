import type { Client } from '@connectrpc/connect';
import type { ManagerService } from '@partq/proto';
import { sleep } from '@partq/runtime';
import type { Logger } from 'pino';
import type { MetadataView } from './metadata-view.js';

export interface MetadataWatcherOptions {
  manager: Client<typeof ManagerService>;
  view: MetadataView;
  watcher: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Backoff between reconnect attempts. */
  retryDelayMs?: number;
}

/**
 * Keeps a MetadataView fed from the manager's WatchMetadata stream. The stream begins
 * with a snapshot, so a reconnect (manager restart, standby takeover) heals any gap.
 */
export class MetadataWatcher {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: MetadataWatcherOptions) {}

  /** Starts watching; resolves when the first snapshot has been applied. */
  async start(): Promise<void> {
    const firstSnapshot = new Promise<void>((resolve) => {
      if (this.options.view.ready) resolve();
      else this.options.view.once('change', () => resolve());
    });
    this.loop = this.run();
    await Promise.race([firstSnapshot, this.loop]);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const { manager, view, watcher, logger } = this.options;
    const retryDelayMs = this.options.retryDelayMs ?? 250;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        for await (const update of manager.watchMetadata({ watcher }, { signal })) {
          view.apply(update.metadata, Number(update.version), update.snapshot);
        }
        if (!signal.aborted) logger.warn({ watcher }, 'metadata stream ended; reconnecting');
      } catch (error) {
        if (signal.aborted) return;
        logger.warn({ err: error, watcher }, 'metadata stream failed; reconnecting');
      }
      await sleep(retryDelayMs, signal).catch(() => undefined);
    }
  }
}
