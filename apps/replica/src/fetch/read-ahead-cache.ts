import { recordBytes, type FetchedRecord } from './fetched-record.js';

interface CachedRun {
  /** Ownership epoch the records were read under; a new epoch invalidates them (see `get`). */
  epoch: number;
  records: FetchedRecord[];
  bytes: number;
}

/**
 * Recently fetched records, one contiguous run per partition, shared by every consumer of this
 * replica: consumers of one topic read the same offsets at nearly the same time, and read-ahead
 * lets one broker fetch serve many consumes. Bounded in bytes; the least recently used partitions
 * are dropped first, then the oldest records of the run being filled.
 *
 * It only answers for offsets inside a run. An offset at or past a run's end goes back to the
 * source, so a message acknowledged a moment ago is always visible.
 */
export class ReadAheadCache {
  private readonly runs = new Map<string, CachedRun>();
  private totalBytes = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * Up to `max` records from `offset`, or undefined when the cache does not hold `offset`. A run
   * read under another epoch is dropped: after a move the new owner may have truncated records
   * the old one still had past the committed high watermark.
   */
  get(key: string, epoch: number, offset: number, max: number): FetchedRecord[] | undefined {
    const run = this.runs.get(key);
    if (!run) return undefined;
    if (run.epoch !== epoch) {
      this.drop(key, run);
      return undefined;
    }
    const first = run.records[0];
    if (!first) return undefined;
    const index = offset - first.offset;
    if (index < 0 || index >= run.records.length) return undefined;
    this.touch(key, run);
    return run.records.slice(index, index + max);
  }

  /** The end of the cached run (the first offset it does not hold), if any. */
  endOf(key: string, epoch: number): number | undefined {
    const run = this.runs.get(key);
    const last = run?.records[run.records.length - 1];
    return run && last && run.epoch === epoch ? last.offset + 1 : undefined;
  }

  /**
   * Stores a contiguous run of records. It extends the cached run when it continues it (same
   * epoch, first offset = the run's end, or overlapping it); otherwise it replaces the run.
   */
  put(key: string, epoch: number, records: readonly FetchedRecord[]): void {
    const first = records[0];
    if (!first || this.maxBytes <= 0) return;
    const run = this.runs.get(key);
    const runFirst = run?.records[0];
    if (run && runFirst && run.epoch === epoch && first.offset >= runFirst.offset && first.offset <= runFirst.offset + run.records.length) {
      const skip = runFirst.offset + run.records.length - first.offset;
      const added = records.slice(skip);
      const addedBytes = added.reduce((sum, record) => sum + recordBytes(record), 0);
      run.bytes += addedBytes;
      this.totalBytes += addedBytes;
      run.records.push(...added);
      this.touch(key, run);
    } else {
      if (run) this.drop(key, run);
      const fresh: CachedRun = { epoch, records: [...records], bytes: records.reduce((sum, record) => sum + recordBytes(record), 0) };
      this.totalBytes += fresh.bytes;
      this.runs.set(key, fresh);
    }
    this.evict(key);
  }

  /** Drops what is cached for a partition. */
  invalidate(key: string): void {
    const run = this.runs.get(key);
    if (run) this.drop(key, run);
  }

  private evict(keep: string): void {
    for (const [key, run] of this.runs) {
      if (this.totalBytes <= this.maxBytes) return;
      if (key !== keep) this.drop(key, run);
    }
    const run = this.runs.get(keep);
    if (!run) return;
    // Only the run just filled is left: drop its oldest records, which consumers have passed.
    let dropped = 0;
    while (this.totalBytes > this.maxBytes && dropped < run.records.length) {
      const bytes = recordBytes(run.records[dropped]!);
      run.bytes -= bytes;
      this.totalBytes -= bytes;
      dropped++;
    }
    run.records.splice(0, dropped);
    if (run.records.length === 0) this.drop(keep, run);
  }

  private touch(key: string, run: CachedRun): void {
    this.runs.delete(key);
    this.runs.set(key, run);
  }

  private drop(key: string, run: CachedRun): void {
    this.runs.delete(key);
    this.totalBytes -= run.bytes;
  }
}
