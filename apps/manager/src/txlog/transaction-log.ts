import { Wal } from '@partq/wal';
import type { Logger } from 'pino';
import type { PartitionOwnerChange } from '../store/owner-change.js';

/** What the manager is about to change, recorded before the change (LogEvent). */
export type TxEvent =
  | { kind: 'create-topic'; name: string; partitions: number; acks: 'broker' | 'all'; owners: (number | null)[] }
  | { kind: 'change-owners'; changes: PartitionOwnerChange[] }
  | { kind: 'sync'; brokerId: number; partitions: { topicId: number; partitionId: number; epoch: number; to: number }[] };

export interface PendingEvent {
  id: number;
  event: TxEvent;
}

type Entry = { type: 'event'; id: number; event: TxEvent } | { type: 'success'; id: number };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The manager's write-ahead transaction log (libs/wal): LogEvent is fsync'd before a
 * metadata change or a broker->PostgreSQL sync, LogSuccess after its commit. On restart,
 * events without a success are handed to recovery, which redoes them idempotently.
 */
export class TransactionLog {
  private nextId = 1;
  private readonly open = new Set<number>();

  private constructor(
    private readonly wal: Wal,
    readonly pendingAtStart: PendingEvent[],
    private readonly logger: Logger,
  ) {}

  static async open(dir: string, logger: Logger): Promise<TransactionLog> {
    const wal = await Wal.open({ dir, segmentBytes: 4 * 1024 * 1024, cacheBytes: 256 * 1024, logger });
    const events = new Map<number, TxEvent>();
    let maxId = 0;
    for await (const record of wal.readAll()) {
      const entry = JSON.parse(decoder.decode(record.data)) as Entry;
      maxId = Math.max(maxId, entry.id);
      if (entry.type === 'event') events.set(entry.id, entry.event);
      else events.delete(entry.id);
    }
    const pending = [...events.entries()].map(([id, event]) => ({ id, event }));
    const log = new TransactionLog(wal, pending, logger);
    log.nextId = maxId + 1;
    for (const p of pending) log.open.add(p.id);
    return log;
  }

  /** LogEvent, run the change, LogSuccess. A change that throws stays pending for recovery (it may have committed). */
  async run<T>(event: TxEvent, change: () => Promise<T>): Promise<T> {
    const id = await this.logEvent(event);
    const result = await change();
    await this.logSuccess(id);
    return result;
  }

  async logEvent(event: TxEvent): Promise<number> {
    const id = this.nextId++;
    this.open.add(id);
    await this.wal.append([encoder.encode(JSON.stringify({ type: 'event', id, event } satisfies Entry))]);
    return id;
  }

  async logSuccess(id: number): Promise<void> {
    await this.wal.append([encoder.encode(JSON.stringify({ type: 'success', id } satisfies Entry))]);
    this.open.delete(id);
    await this.compact();
  }

  /** With nothing open, everything written so far is history: let whole old segments go. */
  private async compact(): Promise<void> {
    if (this.open.size > 0) return;
    try {
      await this.wal.trimBefore(this.wal.endOffset);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not compact the transaction log');
    }
  }

  async close(): Promise<void> {
    await this.wal.close();
  }
}
