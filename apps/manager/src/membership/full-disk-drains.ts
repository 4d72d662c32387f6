import type { Logger } from 'pino';
import type { MoveReport } from '../assignment/partition-mover.js';
import type { ClusterState } from '../state/cluster-state.js';

/** How long after a drain that left partitions behind (no other broker alive, a move that timed out) it is tried again. */
const DEFAULT_RETRY_AFTER_MS = 10_000;

export interface FullDiskDrainsOptions {
  state: Pick<ClusterState, 'brokers' | 'partitionsOwnedBy'>;
  drain: (brokerId: number) => Promise<MoveReport>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  retryAfterMs?: number;
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
  private readonly failedAt = new Map<number, number>();
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
    const failedAt = this.failedAt.get(brokerId);
    if (failedAt !== undefined && Date.now() - failedAt < (this.options.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS)) return;

    const { logger } = this.options;
    this.running.add(brokerId);
    logger.warn({ brokerId }, 'broker reports a full disk; moving its partitions to other brokers');
    void this.options
      .drain(brokerId)
      .then(
        (report) => {
          if (report.failed.length === 0) {
            this.failedAt.delete(brokerId);
            logger.info({ brokerId, moved: report.moved.length }, 'broker with a full disk drained; resume it once it has room');
            return;
          }
          this.failedAt.set(brokerId, Date.now());
          logger.warn({ brokerId, moved: report.moved.length, failed: report.failed }, 'some partitions of a broker with a full disk did not move; trying again shortly');
        },
        (error: unknown) => {
          this.failedAt.set(brokerId, Date.now());
          logger.error({ brokerId, err: error }, 'draining a broker with a full disk failed; trying again shortly');
        },
      )
      .finally(() => this.running.delete(brokerId));
  }
}
