import type { MetadataView } from '@partq/cluster';
import type { Partition } from '@partq/proto';
import { fromConnectError, type Logger } from '@partq/runtime';
import type { FetchSource, ReplicaMetrics } from '../metrics.js';
import type { BrokerClientPool } from './broker-client-pool.js';
import type { CommittedMessages } from './committed-messages.js';
import { DEFAULT_BROKER_TIMEOUT_MS, DEFAULT_FETCH_MAX_BYTES } from './fetch-defaults.js';
import { contiguousFrom, fetchedRecordsOf, type FetchedRecord, type RecordsAnswer } from './fetched-record.js';
import type { ReadAheadCache } from './read-ahead-cache.js';
import type { WalStarts } from './wal-starts.js';

/** The answer of one read of a partition. */
export interface PartitionRead {
  /** Contiguous records starting at `from`, at most as many as asked for. */
  records: FetchedRecord[];
  /**
   * Where the read really started: the offset asked for, or a later one when retention deleted the
   * records in between (the consumer's position jumps there).
   */
  from: number;
  /** Where the records came from; undefined when there were none. */
  source?: FetchSource;
}

export interface PartitionReaderOptions {
  view: MetadataView;
  brokers: BrokerClientPool;
  committed: CommittedMessages;
  cache: ReadAheadCache;
  /** Brokers' WAL starts: offsets below are read from PostgreSQL without asking the broker. */
  walStarts: WalStarts;
  /** Records asked of a broker or PostgreSQL per read; the rest wait in the cache for the next consume. */
  readAhead: number;
  /** Bound in bytes of a read: a broker Fetch's max_bytes, and of the stored batches read from PostgreSQL. */
  readMaxBytes?: number;
  /** Deadline of a Fetch: a stopped broker must not hold a consume for long. */
  brokerTimeoutMs?: number;
  metrics?: ReplicaMetrics;
  logger: Pick<Logger, 'warn' | 'debug'>;
}

/** A read started ahead of the consume that will want it (see `readAhead`). */
interface ReadAhead {
  epoch: number;
  from: number;
  /** Settles once the records are in the cache, or the read found none or failed. */
  done: Promise<void>;
}

/**
 * Reads a partition from an offset, wherever its records are: the read-ahead cache, the owning
 * broker's WAL, or the messages table in PostgreSQL for what the broker no longer keeps (trimmed
 * after commit) or cannot serve (down, or not the owner any more).
 */
export class PartitionReader {
  /** Reads ahead under way, by partition (one each). */
  private readonly ahead = new Map<string, ReadAhead>();

  constructor(private readonly options: PartitionReaderOptions) {}

  private get maxBytes(): number {
    return this.options.readMaxBytes ?? DEFAULT_FETCH_MAX_BYTES;
  }

  /** Records from the read-ahead cache alone; undefined when it does not hold `offset`. */
  readCached(partition: Partition, offset: number, max: number): PartitionRead | undefined {
    const from = startOf(partition, offset);
    const cached = this.options.cache.get(cacheKey(partition), partition.epoch, from, max);
    return cached && cached.length > 0 ? this.answer({ records: cached, from, source: 'cache' }) : undefined;
  }

  /** Whether the read-ahead cache holds `offset` of the partition (counts nothing). */
  holds(partition: Partition, offset: number): boolean {
    return (this.options.cache.get(cacheKey(partition), partition.epoch, startOf(partition, offset), 1)?.length ?? 0) > 0;
  }

  /**
   * Starts reading the partition from `offset` into the cache, unless the cache holds it or such a
   * read is under way. A consumer that got a full delivery is behind: the source read of its next
   * one then runs while that delivery's position is committed, instead of after it.
   */
  readAhead(partition: Partition, offset: number, max: number): void {
    if (this.covers(partition, offset)) return;
    const key = cacheKey(partition);
    const read: ReadAhead = { epoch: partition.epoch, from: startOf(partition, offset), done: Promise.resolve() };
    read.done = this.readSource(partition, offset, max).then(
      () => undefined,
      () => undefined,
    );
    this.ahead.set(key, read);
    void read.done.then(() => {
      if (this.ahead.get(key) === read) this.ahead.delete(key);
    });
  }

  /** Whether a read ahead of the partition from `offset` is under way (read() waits for it). */
  readingAhead(partition: Partition, offset: number): boolean {
    const read = this.ahead.get(cacheKey(partition));
    return read !== undefined && read.epoch === partition.epoch && read.from === startOf(partition, offset);
  }

  /** Whether the cache holds `offset`, or a read ahead is bringing it there: nothing to ask a source for. */
  covers(partition: Partition, offset: number): boolean {
    return this.holds(partition, offset) || this.readingAhead(partition, offset);
  }

  async read(partition: Partition, offset: number, max: number): Promise<PartitionRead> {
    const cached = this.readCached(partition, offset, max);
    if (cached) return cached;
    if (this.readingAhead(partition, offset)) {
      await this.ahead.get(cacheKey(partition))!.done;
      const arrived = this.readCached(partition, offset, max);
      if (arrived) return arrived;
    }
    return this.readSource(partition, offset, max);
  }

  /** Reads the partition from the owning broker or PostgreSQL (the cache keeps what it got). */
  private async readSource(partition: Partition, offset: number, max: number): Promise<PartitionRead> {
    const from = startOf(partition, offset);
    const key = cacheKey(partition);

    const broker = partition.brokerId > 0 ? this.options.view.aliveBroker(partition.brokerId) : undefined;
    if (!broker) return this.readCommittedBelowHighWatermark(partition, key, from, max, 'owner is unassigned or dead');
    const { walStarts } = this.options;
    if (walStarts.below(partition, broker.address, from)) return this.readCommitted(partition, key, from, max);

    let fetched: RecordsAnswer & { walStartOffset: bigint };
    try {
      fetched = await this.options.brokers.client(broker.address).fetch(
        {
          topicId: partition.topicId,
          partitionId: partition.partitionId,
          offset: BigInt(from),
          maxRecords: this.options.readAhead,
          maxBytes: this.maxBytes,
          acceptRecordsData: true,
          // The owner refuses (STALE_EPOCH) until its log is settled in this epoch.
          epoch: partition.epoch,
        },
        { timeoutMs: this.options.brokerTimeoutMs ?? DEFAULT_BROKER_TIMEOUT_MS },
      );
    } catch (error) {
      const failure = fromConnectError(error);
      // The broker trimmed its WAL below this offset: the records are committed in PostgreSQL.
      if (failure.code === 'OFFSET_OUT_OF_RANGE') {
        walStarts.noteRefusal(partition, broker.address, failure);
        return this.readCommitted(partition, key, from, max);
      }
      // STALE_EPOCH: the owner has not taken the epoch the metadata shows yet, a moment's race in every move.
      const say = failure.code === 'STALE_EPOCH' ? this.options.logger.debug.bind(this.options.logger) : this.options.logger.warn.bind(this.options.logger);
      say(
        { err: failure, code: failure.code, topicId: partition.topicId, partitionId: partition.partitionId, broker: broker.address },
        'fetch from the owning broker failed',
      );
      return this.readCommittedBelowHighWatermark(partition, key, from, max, `fetch failed: ${failure.code}`);
    }

    walStarts.note(partition, broker.address, Number(fetched.walStartOffset));
    const records = contiguousFrom(fetchedRecordsOf(fetched), from);
    if (records.length > 0) {
      this.options.cache.put(key, partition.epoch, records);
      return this.answer({ records: records.slice(0, max), from, source: 'broker' });
    }
    // Nothing at `from` on the broker although it kept records: it starts past `from`, so the
    // records before its WAL start are in PostgreSQL.
    const walStart = Number(fetched.walStartOffset);
    const firstHeld = fetched.records[0] ? Number(fetched.records[0].offset) : undefined;
    if (from < walStart || (firstHeld !== undefined && firstHeld > from)) return this.readCommitted(partition, key, from, max);
    return { records: [], from };
  }

  /** The owner cannot answer: records below the high watermark are committed; past it there is nothing to give yet. */
  private async readCommittedBelowHighWatermark(partition: Partition, key: string, from: number, max: number, why: string): Promise<PartitionRead> {
    if (from < Number(partition.highWatermark)) return this.readCommitted(partition, key, from, max);
    this.options.logger.debug({ topicId: partition.topicId, partitionId: partition.partitionId, from, why }, 'partition not readable now');
    return { records: [], from };
  }

  private async readCommitted(partition: Partition, key: string, from: number, max: number): Promise<PartitionRead> {
    const rows = await this.options.committed.read(partition.topicId, partition.partitionId, from, this.options.readAhead, this.maxBytes);
    const first = rows[0];
    if (!first) return { records: [], from };
    // Rows only go missing from the front (retention), so a later first row means a jump.
    const start = Math.max(from, first.offset);
    const records = contiguousFrom(rows, start);
    this.options.cache.put(key, partition.epoch, records);
    return this.answer({ records: records.slice(0, max), from: start, source: 'postgres' });
  }

  private answer(read: PartitionRead): PartitionRead {
    if (read.source && read.records.length > 0) this.options.metrics?.fetchSource.inc({ source: read.source });
    return read;
  }
}

/** Retention deleted everything below the log start: a position there jumps forward. */
function startOf(partition: Partition, offset: number): number {
  return Math.max(offset, Number(partition.logStartOffset));
}

/** The read-ahead cache's key of a partition. */
export function cacheKey(partition: Pick<Partition, 'topicId' | 'partitionId'>): string {
  return `${partition.topicId}/${partition.partitionId}`;
}
