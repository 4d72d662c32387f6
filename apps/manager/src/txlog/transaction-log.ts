import { PartqError } from '@partq/runtime';
import { isOutOfSpace, Wal } from '@partq/wal';
import type { Logger } from 'pino';
import type { PartitionOwnerChange } from '../store/owner-change.js';

/** What the manager is about to change, recorded before the change (LogEvent). */
export type TxEvent =
  | {
      kind: 'create-topic';
      name: string;
      partitions: number;
      acks: 'broker' | 'all';
      owners: (number | null)[];
      /** Absent in logs written before topics had limits: none. */
      retentionMs?: number | null;
      retentionBytes?: number | null;
    }
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
  private closing = false;
  /** Set while the WAL is reopened after a failed write; appends wait for it. */
  private reopening: Promise<void> | undefined;

  private constructor(
    private wal: Wal,
    private readonly dir: string,
    readonly pendingAtStart: PendingEvent[],
    private readonly logger: Logger,
  ) {}

  static async open(dir: string, logger: Logger): Promise<TransactionLog> {
    const wal = await openWal(dir, logger);
    const events = new Map<number, TxEvent>();
    let maxId = 0;
    for await (const record of wal.readAll()) {
      const entry = JSON.parse(decoder.decode(record.data)) as Entry;
      maxId = Math.max(maxId, entry.id);
      if (entry.type === 'event') events.set(entry.id, entry.event);
      else events.delete(entry.id);
    }
    const pending = [...events.entries()].map(([id, event]) => ({ id, event }));
    const log = new TransactionLog(wal, dir, pending, logger);
    log.nextId = maxId + 1;
    for (const p of pending) log.open.add(p.id);
    return log;
  }

  /**
   * LogEvent, run the change, LogSuccess. A change that throws stays pending for recovery (it may
   * have committed). The caller does not wait for the success record to reach the disk: it only
   * spares recovery a redo, and every redo is idempotent (recoverLogs checks PostgreSQL first). So
   * a sync's commit reaches its broker one fsync sooner, and the record shares the next event's.
   */
  async run<T>(event: TxEvent, change: () => Promise<T>): Promise<T> {
    const id = await this.logEvent(event);
    const result = await change();
    this.succeeded(id);
    return result;
  }

  /**
   * As run, but the change starts while the event is written: it is handed the write, and must
   * await it before it commits, so the event is still on disk before the change takes effect. A
   * sync's statements then overlap the fsync of its event instead of following it. A write that
   * fails fails the change (it commits nothing); a change that throws stays pending, as with run.
   */
  async runAlongside<T>(event: TxEvent, change: (logged: Promise<void>) => Promise<T>): Promise<T> {
    const logging = this.logEvent(event);
    const logged = logging.then(() => undefined);
    // The change may fail before it looks at the write: a failed write is then nobody's to report.
    logged.catch(() => undefined);
    let result: T;
    try {
      result = await change(logged);
    } finally {
      // Settled either way before returning, so that a change that threw early leaves no write unobserved.
      await logging.catch(() => undefined);
    }
    const id = await logging;
    this.succeeded(id);
    return result;
  }

  /** LogSuccess, not waited for (see run): a failed write only means recovery redoes the event. */
  private succeeded(id: number): void {
    this.logSuccess(id).catch((error: unknown) => this.logger.warn({ err: error, id }, 'could not log a success; recovery will redo the event'));
  }

  async logEvent(event: TxEvent): Promise<number> {
    const id = this.nextId++;
    this.open.add(id);
    try {
      await this.append({ type: 'event', id, event });
    } catch (error) {
      // Not logged, so not run: nothing of it for recovery to redo, nor to keep the log from compacting.
      this.open.delete(id);
      throw error;
    }
    return id;
  }

  async logSuccess(id: number): Promise<void> {
    try {
      await this.append({ type: 'success', id });
    } finally {
      // Its change committed whether or not this record was written (it only spares recovery a
      // redo): kept open, it would stop the log from compacting until the manager restarted.
      this.open.delete(id);
    }
    await this.compact();
  }

  /**
   * Appends one entry. The WAL refuses every write after one failed (its tail may be torn) until it
   * is reopened, so a failed write reopens it (recovery cuts what is torn): without that, one moment
   * of a full disk stopped every metadata change and every sync of the manager until it restarted.
   */
  private async append(entry: Entry): Promise<void> {
    await this.reopening;
    try {
      await this.wal.append([encoder.encode(JSON.stringify(entry))]);
    } catch (error) {
      this.reopenAfter(error);
      throw transactionLogError(error, this.dir);
    }
  }

  private reopenAfter(error: unknown): void {
    if (this.reopening || this.closing) return;
    this.logger.error({ err: error, dir: this.dir }, 'the transaction log could not be written; reopening it');
    this.reopening = (async () => {
      await this.wal.close().catch(() => undefined);
      this.wal = await openWal(this.dir, this.logger);
    })()
      .catch((reopenError: unknown) => this.logger.error({ err: reopenError, dir: this.dir }, 'reopening the transaction log failed; the next write tries again'))
      .finally(() => (this.reopening = undefined));
  }

  /**
   * With nothing open, everything written so far is history: whole segments before the active one
   * go. The active one stays, and so does what is in it: trimming up to the end would start a new
   * segment file, and with it a file creation, an unlink and two directory fsyncs, after every
   * event (that was most of a sync's cost when acks=all records were synced one by one). Recovery
   * reads at most a segment's worth of finished events back (4 MiB).
   */
  private async compact(): Promise<void> {
    if (this.open.size > 0 || this.closing || this.wal.activeSegmentStart === this.wal.startOffset) return;
    try {
      await this.wal.trimBefore(this.wal.activeSegmentStart);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not compact the transaction log');
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.reopening;
    await this.wal.close();
  }
}

function openWal(dir: string, logger: Logger): Promise<Wal> {
  // No tail cache: the log is read once, at start, from disk. A cached event pinned the whole buffer
  // it was written from (8 KiB of Node's pool for ~150 bytes), ~17 KB/s of growth at 2 000 msg/s.
  return Wal.open({ dir, segmentBytes: 4 * 1024 * 1024, cacheBytes: 0, logger });
}

/** What the caller of a change is told when its event could not be logged: the change was not made. */
function transactionLogError(error: unknown, dir: string): PartqError {
  if (isOutOfSpace(error)) {
    return new PartqError('UNAVAILABLE', `the manager cannot write its transaction log: the disk holding ${dir} is full; retry once there is room`, {
      diskFull: true,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new PartqError('UNAVAILABLE', `the manager could not write its transaction log (${reason}); retry`, undefined, { cause: error });
}
