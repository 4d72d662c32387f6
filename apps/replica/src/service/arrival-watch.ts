import type { MetadataView } from '@partq/cluster';
import type { Partition } from '@partq/proto';
import type { RecordWatch, WaitOutcome } from '../fetch/record-watch.js';
import { WaitRound } from '../fetch/wait-round.js';

/** A partition a consumer waits on, and the offset it will read next there. */
export interface WaitPoint {
  partition: Partition;
  offset: number;
}

export interface ArrivalWatchOptions {
  view: MetadataView;
  waiter: RecordWatch;
  /**
   * How soon a partition that cannot be long-polled (owner dead or unassigned, or failing) is looked
   * at again: its records may come from PostgreSQL. Default 1 s.
   */
  recheckMs?: number;
  /** Longest long-poll asked of a broker. Default 10 s. */
  maxPollMs?: number;
}

const DEFAULT_RECHECK_MS = 1000;
const DEFAULT_MAX_POLL_MS = 10_000;

/**
 * What to read after a wait: the partitions to read from their source (broker or PostgreSQL), or
 * 'all'. Records a long-poll brought are in the read-ahead cache; they need no naming.
 */
export type ReadAfterWait = ReadonlySet<number> | 'all';

const NOTHING: ReadAfterWait = new Set<number>();

/**
 * Waits, without polling, until one of a consumer's partitions may have something to deliver: a
 * long-poll Fetch to the owner of each, in parallel (the rest are cancelled when one answers and no
 * one comes back for them), a change of owner or epoch of one of them in the metadata, or a slow
 * re-check of partitions no broker can be asked about.
 */
export class ArrivalWatch {
  private readonly recheckMs: number;
  private readonly maxPollMs: number;
  private readonly onViewChange = new Set<() => void>();

  constructor(private readonly options: ArrivalWatchOptions) {
    this.recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
    this.maxPollMs = options.maxPollMs ?? DEFAULT_MAX_POLL_MS;
    // One listener for every waiting stream.
    options.view.on('change', () => {
      for (const wake of [...this.onViewChange]) wake();
    });
  }

  /**
   * Resolves when something may be ready at one of `points`: 'all' at `deadline` (epoch ms), on an
   * owner change, or when `signal` aborts (look everywhere); the partitions to read from their source
   * when a long-poll said so (records below the broker's WAL) or a partition no broker can be asked
   * about is due for its re-check; nothing when a long-poll put records in the read-ahead cache.
   * A wake-up is a hint: the caller looks again either way.
   */
  async until(points: readonly WaitPoint[], deadline: number, signal: AbortSignal): Promise<ReadAfterWait> {
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal.aborted) return 'all';
    // Ends this round's waits; follows the stream's `signal` by hand (AbortSignal.any on a long-lived
    // signal leaks on Node 20).
    const round = new WaitRound();
    const follow = (): void => round.end();
    signal.addEventListener('abort', follow, { once: true });
    const all = (): ReadAfterWait => 'all';
    const waits: Promise<ReadAfterWait>[] = [delay(remaining, round).then(all), this.ownerChange(points, round).then(all)];
    for (const point of points) {
      const readIt: ReadAfterWait = new Set([point.partition.partitionId]);
      const broker = point.partition.brokerId > 0 ? this.options.view.aliveBroker(point.partition.brokerId) : undefined;
      if (!broker) {
        waits.push(delay(this.recheckMs, round).then(() => readIt));
        continue;
      }
      const watch = async (): Promise<ReadAfterWait> => {
        for (;;) {
          const pollMs = Math.min(deadline - Date.now(), this.maxPollMs);
          // The round ends at the deadline anyway; a poll that ran out early (a shared one asked for less) is asked again.
          if (pollMs <= 0 || round.over) return 'all';
          const result: WaitOutcome = await this.options.waiter.wait(point.partition, broker.address, point.offset, pollMs, round);
          if (result === 'cached') return NOTHING;
          if (result === 'at-source') return readIt;
          if (result === 'unavailable') return delay(this.recheckMs, round).then(() => readIt);
        }
      };
      waits.push(watch());
    }
    try {
      return await Promise.race(waits);
    } finally {
      signal.removeEventListener('abort', follow);
      round.end();
    }
  }

  /** Starts long-polls at `points` without waiting on them (see RecordWatch.prefetch). */
  prefetch(points: readonly WaitPoint[]): void {
    for (const point of points) {
      const broker = point.partition.brokerId > 0 ? this.options.view.aliveBroker(point.partition.brokerId) : undefined;
      if (broker) this.options.waiter.prefetch(point.partition, broker.address, point.offset, this.maxPollMs);
    }
  }

  /** Resolves when the owner or epoch of one of the partitions changes, or a broker's state does. */
  private ownerChange(points: readonly WaitPoint[], round: WaitRound): Promise<void> {
    const fingerprint = (): string =>
      points
        .map(({ partition }) => {
          const now = this.options.view.partition(partition.topicId, partition.partitionId);
          const alive = now && now.brokerId > 0 ? this.options.view.aliveBroker(now.brokerId) : undefined;
          return `${now?.brokerId}:${now?.epoch}:${alive?.address ?? '-'}`;
        })
        .join(',');
    const before = fingerprint();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.onViewChange.delete(check);
        round.offOver(done);
        resolve();
      };
      const check = (): void => {
        if (fingerprint() !== before) done();
      };
      if (round.over) {
        resolve();
        return;
      }
      this.onViewChange.add(check);
      round.onOver(done);
    });
  }
}

/** Resolves after `ms`, or at once when `round` ends. */
function delay(ms: number, round: WaitRound): Promise<void> {
  return new Promise<void>((resolve) => {
    if (round.over) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      round.offOver(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    round.onOver(done);
  });
}
