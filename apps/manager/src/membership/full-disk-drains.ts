import type { BrokerRow } from '@partq/schema';
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
/** The longest a broker whose disk keeps filling up waits, with room, before it is resumed. */
const MAX_RESUME_AFTER_MS = 60 * 60_000;

export interface FullDiskDrainsOptions {
  state: Pick<ClusterState, 'brokers' | 'partitionsOwnedBy'>;
  /** Drains the broker for its full disk (DrainBroker, with the reason `disk_full`). */
  drain: (brokerId: number) => Promise<MoveReport>;
  /** Puts a draining broker back in service (ResumeBroker). */
  resume: (brokerId: number) => Promise<unknown>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /**
   * How long a broker drained for a full disk must report room before it is resumed, doubled each
   * time the same broker fills up again (up to an hour). 0: never; an operator resumes it.
   */
  resumeAfterMs: number;
  retryAfterMs?: number;
  maxRetryAfterMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * Drains a broker that says in its heartbeat that its disk is full. Its writes fail, so producers
 * of its partitions would wait in vain; the partitions move to brokers that can write, as an
 * operator's DrainBroker would move them (the full broker still serves what it holds while the
 * manager syncs it). The broker stays draining, given no new partitions, until its heartbeats have
 * said for `resumeAfterMs` that its disk has room: then it is resumed, so that it can take new
 * partitions and those of the next broker that fills up. A disk that fills again waits twice as
 * long the next time, so a nearly full disk is not given partitions every minute. Which brokers
 * are draining for their disk is the broker row's `drain_reason`, so a restarted manager (or a
 * standby taking over) resumes them too; a broker an operator drained is theirs to resume.
 */
export class FullDiskDrains {
  private readonly running = new Set<number>();
  /** Brokers whose last drain left partitions behind: when it ended, and how many did so in a row. */
  private readonly failed = new Map<number, { at: number; inARow: number }>();
  private readonly full = new Set<number>();
  /** Brokers draining for a full disk whose heartbeats say it has room: since when. */
  private readonly roomSince = new Map<number, number>();
  /** How many times each broker was drained for a full disk, for the wait before resuming it. */
  private readonly fills = new Map<number, number>();
  private readonly resuming = new Set<number>();

  private readonly now: () => number;

  constructor(private readonly options: FullDiskDrainsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether the last heartbeat of `brokerId` said its disk is full (for the health table). */
  isFull(brokerId: number): boolean {
    return this.full.has(brokerId);
  }

  /** A heartbeat of `brokerId` said whether its disk is full. */
  reported(brokerId: number, diskFull: boolean): void {
    if (diskFull) this.full.add(brokerId);
    else this.full.delete(brokerId);
    const broker = this.options.state.brokers.get(brokerId);
    if (!diskFull) {
      if (broker) this.resumeOnceRoomLasts(broker);
      return;
    }
    this.roomSince.delete(brokerId);
    if (this.running.has(brokerId)) return;
    if (!broker || broker.state === 'dead') return;
    // Drained already: nothing left to move.
    if (broker.state === 'draining' && this.options.state.partitionsOwnedBy(brokerId).length === 0) return;
    const failed = this.failed.get(brokerId);
    if (failed !== undefined && this.now() - failed.at < this.retryDelay(failed.inARow)) return;

    const { logger } = this.options;
    this.running.add(brokerId);
    // A new fill, not a retry of a drain that left partitions behind (or could not start).
    if (!drainingForDisk(broker) && failed === undefined) this.fills.set(brokerId, (this.fills.get(brokerId) ?? 0) + 1);
    logger.warn({ brokerId }, 'broker reports a full disk; moving its partitions to other brokers');
    void this.options
      .drain(brokerId)
      .then(
        (report) => {
          if (report.failed.length === 0) {
            this.failed.delete(brokerId);
            logger.info(
              { brokerId, moved: report.moved.length, resumeAfterMs: this.resumeDelay(brokerId) || undefined },
              this.options.resumeAfterMs > 0 ? 'broker with a full disk drained; it is resumed once its disk has had room for a while' : 'broker with a full disk drained; resume it once it has room',
            );
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

  private resumeOnceRoomLasts(broker: BrokerRow): void {
    const brokerId = broker.id;
    // Resumed, declared dead or drained by an operator: nothing of ours to resume.
    if (!drainingForDisk(broker)) {
      this.roomSince.delete(brokerId);
      return;
    }
    if (this.options.resumeAfterMs <= 0 || this.running.has(brokerId) || this.resuming.has(brokerId)) return;
    const now = this.now();
    const since = this.roomSince.get(brokerId) ?? now;
    this.roomSince.set(brokerId, since);
    const roomForMs = now - since;
    if (roomForMs < this.resumeDelay(brokerId)) return;

    const { logger } = this.options;
    this.resuming.add(brokerId);
    void this.options
      .resume(brokerId)
      .then(
        () => {
          this.roomSince.delete(brokerId);
          logger.info({ brokerId, roomForMs }, 'broker drained for a full disk has had room since; resumed: new partitions may go to it');
        },
        (error: unknown) => logger.warn({ brokerId, err: error }, 'resuming a broker drained for a full disk failed; trying again at its next heartbeat'),
      )
      .finally(() => this.resuming.delete(brokerId));
  }

  private resumeDelay(brokerId: number): number {
    const { resumeAfterMs } = this.options;
    if (resumeAfterMs <= 0) return 0;
    return Math.min(Math.max(resumeAfterMs, MAX_RESUME_AFTER_MS), resumeAfterMs * 2 ** ((this.fills.get(brokerId) ?? 1) - 1));
  }

  private noteFailed(brokerId: number): void {
    this.failed.set(brokerId, { at: this.now(), inARow: (this.failed.get(brokerId)?.inARow ?? 0) + 1 });
  }

  private retryDelay(inARow: number): number {
    const first = this.options.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
    return Math.min(this.options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS, first * 2 ** (inARow - 1));
  }
}

function drainingForDisk(broker: BrokerRow): boolean {
  return broker.state === 'draining' && broker.drain_reason === 'disk_full';
}
