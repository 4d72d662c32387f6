import type { MetadataView } from '@partq/cluster';
import type { RecordWatch } from '../fetch/record-watch.js';
import { StreamArrivals } from './stream-arrivals.js';

export interface ArrivalWatchOptions {
  view: MetadataView;
  waiter: RecordWatch;
  /**
   * How soon a partition that cannot be waited on (owner dead or unassigned, or failing) is looked
   * at again: its records may come from PostgreSQL. Default 1 s.
   */
  recheckMs?: number;
  /** Longest long-poll asked of a broker. Default 10 s. */
  maxPollMs?: number;
}

const DEFAULT_RECHECK_MS = 1000;
const DEFAULT_MAX_POLL_MS = 10_000;

/**
 * Tells consume streams, without polling, which of their partitions may have something to deliver
 * (see StreamArrivals): a wait at each on its owner (RecordWatch), a slow re-check of partitions no
 * broker can be asked about, and a new look everywhere when owners change in the metadata.
 */
export class ArrivalWatch {
  private readonly streams = new Set<StreamArrivals>();
  private ownersSeen: number;

  constructor(private readonly options: ArrivalWatchOptions) {
    this.ownersSeen = options.view.ownersVersion;
    // One listener for every stream; most changes only move high watermarks and are passed over.
    options.view.on('change', () => {
      const owners = options.view.ownersVersion;
      if (owners === this.ownersSeen) return;
      this.ownersSeen = owners;
      for (const stream of [...this.streams]) stream.ownersChanged();
    });
  }

  /** Follows a stream's partitions (ascending) of topic `topicId` until the returned arrivals are closed. */
  follow(topicId: number, partitionIds: readonly number[]): StreamArrivals {
    const arrivals: StreamArrivals = new StreamArrivals(
      {
        view: this.options.view,
        waiter: this.options.waiter,
        recheckMs: this.options.recheckMs ?? DEFAULT_RECHECK_MS,
        maxPollMs: this.options.maxPollMs ?? DEFAULT_MAX_POLL_MS,
      },
      topicId,
      partitionIds,
      () => this.streams.delete(arrivals),
    );
    this.streams.add(arrivals);
    return arrivals;
  }
}
