import type { MetadataView } from '@partq/cluster';
import type { Partition } from '@partq/proto';
import type { RecordWatch } from '../fetch/record-watch.js';
import type { ConsumerPositions } from '../positions/position-store.js';
import { WaitRound } from '../fetch/wait-round.js';
import type { ConsumeScope } from './consume-scope.js';

/** A partition a consumer waits on, and the offset it will read next there. */
export interface WaitPoint {
  partition: Partition;
  offset: number;
}

/** Where to look for a partition's news: the read-ahead cache only, or its source too. */
type Look = 'cache' | 'source';

/** A wait at one partition, and the owner it was asked of (an owner change makes it stale). */
interface PartitionWait {
  readonly round: WaitRound;
  readonly brokerId: number;
  readonly epoch: number;
  readonly address: string;
}

export interface StreamArrivalsOptions {
  view: MetadataView;
  waiter: RecordWatch;
  /** How soon a partition that cannot be waited on (owner dead, or failing) is looked at again. */
  recheckMs: number;
  /** Longest wait asked of a broker; a partition whose wait ran out is looked at and waited on again. */
  maxPollMs: number;
}

/**
 * What one consume stream knows of its partitions. Each is in one of three states: with news (to
 * be looked at), waited on (a wait at the consumer's position there, which gives it news when
 * records may be ready), or neither (found empty, to be waited on from the position it was found
 * empty at). A delivery then costs work for the partitions with news only: on a topic of 1 000
 * partitions, looking at each and waiting at each again per delivery kept the replica ~60 % of a
 * core busy at 2 000 msgs/s (docs/performance-log.md, round 46). Waits outlive deliveries: one is
 * asked again only when its partition had news, ran out (maxPollMs) or changed owner.
 */
export class StreamArrivals implements ConsumeScope {
  private readonly news = new Map<number, Look>();
  private readonly waits = new Map<number, PartitionWait>();
  private readonly unwatched = new Set<number>();
  private wake: (() => void) | undefined;
  private closed = false;
  private positions: ConsumerPositions | undefined;

  constructor(
    private readonly options: StreamArrivalsOptions,
    private readonly topicId: number,
    /** The partitions the stream reads, ascending. */
    private readonly partitionIds: readonly number[],
    private readonly onClose: () => void,
  ) {
    this.lookEverywhere();
  }

  seePositions(positions: ConsumerPositions): void {
    if (this.positions !== undefined && positions !== this.positions) this.lookEverywhere();
    this.positions = positions;
  }

  candidates(): readonly number[] {
    if (this.news.size === this.partitionIds.length) return this.partitionIds;
    return [...this.news.keys()].sort((a, b) => a - b);
  }

  fromSource(partitionId: number): boolean {
    return this.news.get(partitionId) === 'source';
  }

  nothingAt(partitionId: number): void {
    if (this.news.delete(partitionId)) this.unwatched.add(partitionId);
  }

  /**
   * More may follow where a delivery came from. The partitions still to be read from their source
   * are waited on instead: a wait at a partition with records answers at once, and reading each
   * source in turn would cost an offsets round per delivery until every one was read.
   */
  delivered(partitionId: number): void {
    for (const [other, look] of this.news) {
      if (look === 'source' && other !== partitionId) {
        this.news.delete(other);
        this.unwatched.add(other);
      }
    }
    this.news.set(partitionId, 'cache');
  }

  /** Every partition from its source, and no waits: at the start, after an idle heartbeat's wait, an owner change, or a position moved elsewhere. */
  lookEverywhere(): void {
    for (const wait of this.waits.values()) wait.round.end();
    this.waits.clear();
    this.unwatched.clear();
    this.news.clear();
    for (const id of this.partitionIds) this.news.set(id, 'source');
    this.wake?.();
  }

  /** Whether some partition waits to be waited on (see `watch`). */
  get hasUnwatched(): boolean {
    return this.unwatched.size > 0;
  }

  /**
   * Waits at each partition found empty since its last wait, at the point `pointOf` gives (the
   * consumer's position there). One without a point (no position yet) is tried again next time.
   */
  watch(pointOf: (partitionId: number) => WaitPoint | undefined): void {
    if (this.closed) return;
    for (const id of this.unwatched) {
      const point = pointOf(id);
      if (!point) continue;
      this.unwatched.delete(id);
      this.startWait(id, point);
    }
  }

  /** Resolves 'news' when some partition has news (at once if one has), 'timeout' at `deadline` (epoch ms) or when `signal` aborts. */
  next(deadline: number, signal: AbortSignal): Promise<'news' | 'timeout'> {
    if (this.news.size > 0) return Promise.resolve('news');
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal.aborted) return Promise.resolve('timeout');
    return new Promise((resolve) => {
      const finish = (outcome: 'news' | 'timeout'): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', stopped);
        this.wake = undefined;
        resolve(outcome);
      };
      const stopped = (): void => finish('timeout');
      const timer = setTimeout(stopped, remaining);
      signal.addEventListener('abort', stopped, { once: true });
      this.wake = () => finish('news');
    });
  }

  /** The owners in the metadata changed somewhere: a wait asked of a partition's former owner is stale, so everything is looked at again. */
  ownersChanged(): void {
    const { view } = this.options;
    for (const [id, wait] of this.waits) {
      const now = view.partition(this.topicId, id);
      const alive = now && now.brokerId > 0 ? view.aliveBroker(now.brokerId) : undefined;
      if (!now || now.brokerId !== wait.brokerId || now.epoch !== wait.epoch || (alive?.address ?? '') !== wait.address) {
        this.lookEverywhere();
        return;
      }
    }
  }

  /** Ends every wait (the stream ended). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const wait of this.waits.values()) wait.round.end();
    this.waits.clear();
    this.wake?.();
    this.onClose();
  }

  private startWait(id: number, { partition, offset }: WaitPoint): void {
    const { view, waiter, recheckMs, maxPollMs } = this.options;
    const broker = partition.brokerId > 0 ? view.aliveBroker(partition.brokerId) : undefined;
    const wait: PartitionWait = { round: new WaitRound(), brokerId: partition.brokerId, epoch: partition.epoch, address: broker?.address ?? '' };
    this.waits.set(id, wait);
    // No broker to ask: what the manager committed may be read from PostgreSQL, looked at now and then.
    if (!broker) {
      void delay(recheckMs, wait.round).then(() => this.arrived(id, wait, 'source'));
      return;
    }
    void waiter.wait(partition, broker.address, offset, maxPollMs, wait.round).then((outcome) => {
      switch (outcome) {
        case 'cached':
          return this.arrived(id, wait, 'cache');
        case 'at-source':
          return this.arrived(id, wait, 'source');
        case 'unavailable':
          return delay(recheckMs, wait.round).then(() => this.arrived(id, wait, 'source'));
        case 'idle':
          // Ran out: a look at the cache finds it empty and waits again.
          return this.arrived(id, wait, 'cache');
      }
    });
  }

  private arrived(id: number, wait: PartitionWait, look: Look): void {
    // Ended (a new look everywhere, or the stream closed): another wait or none stands for it now.
    if (this.waits.get(id) !== wait) return;
    this.waits.delete(id);
    this.news.set(id, look);
    this.wake?.();
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
