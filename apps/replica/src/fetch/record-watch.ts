import type { Partition } from '@partq/proto';
import type { WaitRound } from './wait-round.js';

/**
 * How a wait for records ended: `cached` (records from the offset on are in the read-ahead cache),
 * `at-source` (there is something to read at the offset, but not from this answer: committed in
 * PostgreSQL below the broker's WAL, say; read the partition from its source), `idle` (the wait ran
 * out, or was given up), or `unavailable` (the broker cannot be asked now: it failed, is not the
 * owner, or answered at once without waiting; look again a little later).
 */
export type WaitOutcome = 'cached' | 'at-source' | 'idle' | 'unavailable';

/** Waits for the next records of a partition on its owning broker, so consume streams need not poll. */
export interface RecordWatch {
  /**
   * Waits up to `maxWaitMs` for a record at `offset` of `partition` on the broker at `address`.
   * Resolves `idle` at once when `round` ends.
   */
  wait(partition: Partition, address: string, offset: number, maxWaitMs: number, round: WaitRound): Promise<WaitOutcome>;
  /** Stops every watch (shutdown). */
  close(): void;
}
