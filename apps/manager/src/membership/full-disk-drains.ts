import type { Logger } from 'pino';
import type { MoveReport } from '../assignment/partition-mover.js';
import type { ClusterState } from '../state/cluster-state.js';

/**
 * How long after a drain that left partitions behind (no other broker alive, a move that timed out,
 * a partition the full broker was still creating) it is tried again: 1 s, doubled after each such
 * drain in a row, up to 10 s. Sends to a partition left behind wait that long, within their deadline.
 */
const DEFAULT_RETRY_AFTER_MS = 1_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 10_000;

export interface FullDiskDrainsOptions {
  state: Pick<ClusterState, 'brokers' | 'partitionsOwnedBy'>;
  drain: (brokerId: number) => Promise<MoveReport>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  retryAfterMs?: number;
  maxRetryAfterMs?: number;
}

/**
 * Drains a broker that says in its heartbeat that its disk is full. Its writes fail, so producers
 * of its partitions would wait in vain; the partitions move to brokers that can write, as an
 * operator's DrainBroker would move them (the full broker still serves what it holds while the
 * manager syncs it). The broker stays draining, given no new partitions, until an operator resumes
 * it (ResumeBroker) once its disk has room again: a disk that filled once is worth a look.
 */
export class FullDiskDrains {
  private readonly running = new Set<number>();
  /** Brokers whose last drain left partitions behind: when it ended, and how many did so in a row. */
  private readonly failed = new Map<number, { at: number; inARow: number }>();
  private readonly full = new Set<number>();

  constructor(private readonly options: FullDiskDrainsOptions) {}

  /** Whether the last heartbeat of `brokerId` said its disk is full (for the health table). */
  isFull(brokerId: number): boolean {
    return this.full.has(brokerId);
  }

  /** A heartbeat of `brokerId` said whether its disk is full. */
  reported(brokerId: number, diskFull: boolean): void {
    if (diskFull) this.full.add(brokerId);
    else this.full.delete(brokerId);
    if (!diskFull || this.running.has(brokerId)) return;
    const broker = this.options.state.brokers.get(brokerId);
    if (!broker || broker.state === 'dead') return;
    // Drained already: nothing left to move.
    if (broker.state === 'draining' && this.options.state.partitionsOwnedBy(brokerId).length === 0) return;
    const failed = this.failed.get(brokerId);
    if (failed !== undefined && Date.now() - failed.at < this.retryDelay(failed.inARow)) return;

    const { logger } = this.options;
    this.running.add(brokerId);
    logger.warn({ brokerId }, 'broker reports a full disk; moving its partitions to other brokers');
    void this.options
      .drain(brokerId)
      .then(
        (report) => {
          if (report.failed.length === 0) {
            this.failed.delete(brokerId);
            logger.info({ brokerId, moved: report.moved.length }, 'broker with a full disk drained; resume it once it has room');
            return;
          }
          this.noteFailed(brokerId);
          logger.warn({ brokerId, moved: report.moved.length, failed: report.failed }, 'some partitions of a broker with a full disk did not move; trying again shortly');
        },
        (error: unknown) => {
          this.noteFailed(brokerId);
          logger.error({ brokerId, err: error }, 'draining a broker with a full disk failed; trying again shortly');
        },
      )
      .finally(() => this.running.delete(brokerId));
  }

  private noteFailed(brokerId: number): void {
    this.failed.set(brokerId, { at: Date.now(), inARow: (this.failed.get(brokerId)?.inARow ?? 0) + 1 });
  }

  private retryDelay(inARow: number): number {
    const first = this.options.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
    return Math.min(this.options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS, first * 2 ** (inARow - 1));
  }
}
