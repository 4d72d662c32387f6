import type { ConsumerPositions } from '../positions/position-store.js';

/**
 * Which partitions a consume looks at, and what it tells about them afterwards. A unary consume
 * looks at every partition it may read, from its source when the cache does not hold it; a stream
 * looks only at the partitions with news since it last found them empty (StreamArrivals).
 */
export interface ConsumeScope {
  /**
   * The consumer's positions, as the consume is about to read at them. PositionStore hands out a
   * new map only when it reloaded them (another replica or stream moved them, or gave deliveries
   * back): what was learnt at the old ones no longer holds.
   */
  seePositions(positions: ConsumerPositions): void;
  /** The partitions to look at, ascending. */
  candidates(): readonly number[];
  /** Whether to read the partition from its source (broker or PostgreSQL) when the cache does not hold it. */
  fromSource(partitionId: number): boolean;
  /** The partition had nothing at the consumer's position. */
  nothingAt(partitionId: number): void;
  /** The partition delivered: there may be more. */
  delivered(partitionId: number): void;
  /** The consumer's positions moved elsewhere: what was learnt of them no longer holds. */
  lookEverywhere(): void;
}

/** A unary consume's scope: every partition, from its source. */
export function everyPartition(partitionIds: readonly number[]): ConsumeScope {
  return {
    seePositions: () => undefined,
    candidates: () => partitionIds,
    fromSource: () => true,
    nothingAt: () => undefined,
    delivered: () => undefined,
    lookEverywhere: () => undefined,
  };
}
