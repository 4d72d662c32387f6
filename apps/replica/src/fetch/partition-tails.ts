import { Code, ConnectError } from '@connectrpc/connect';
import type { Partition } from '@partq/proto';
import { fromConnectError, type Logger } from '@partq/runtime';
import type { ReplicaMetrics } from '../metrics.js';
import type { BrokerClientPool } from './broker-client-pool.js';
import { DEFAULT_FETCH_MAX_BYTES } from './fetch-defaults.js';
import { contiguousFrom, fetchedRecordsOf, type FetchedRecord } from './fetched-record.js';
import { cacheKey } from './partition-reader.js';
import type { ReadAheadCache } from './read-ahead-cache.js';
import type { RecordWatch, WaitOutcome } from './record-watch.js';
import type { WaitRound } from './wait-round.js';
import type { WalStarts } from './wal-starts.js';

export interface PartitionTailsOptions {
  brokers: BrokerClientPool;
  cache: ReadAheadCache;
  /** Brokers' WAL starts: below them there is nothing to follow (the records are in PostgreSQL). */
  walStarts: WalStarts;
  /** Records per pushed response, at most. */
  readAhead: number;
  fetchMaxBytes?: number;
  /** Watches partitions of brokers that do not serve Tail (an older version, during a rolling upgrade). */
  fallback: RecordWatch;
  /** A tail no consumer waited at the head of for this long is closed. Default 10 s. */
  idleMs?: number;
  /** A tail that heard nothing for this long (the broker sends a heartbeat every 5 s) is a dead path: given up. Default 15 s. */
  silenceMs?: number;
  /**
   * Records a tail may push past the last wait at its head before it is closed: its consumers fell
   * behind (they read the cache without waiting), and pushing on would only run through the cache.
   * Default 10 × readAhead.
   */
  maxAhead?: number;
  metrics?: Pick<ReplicaMetrics, 'openTails' | 'tailRecords'>;
  logger: Pick<Logger, 'debug'>;
}

interface TailWaiter {
  readonly offset: number;
  settle(outcome: WaitOutcome): void;
}

/** One partition followed on its owner: a Tail stream from `next` on. */
interface Tail {
  readonly partition: Partition;
  readonly address: string;
  /** The offset of the next record the broker will push. */
  next: number;
  readonly waiters: Set<TailWaiter>;
  readonly controller: AbortController;
  /** When a consumer last waited at (or past) the head: a tail nobody follows any more is closed. */
  wanted: number;
  /** Records pushed since then. */
  unclaimed: number;
  /** When the broker last sent something (records or a heartbeat). */
  heard: number;
  /** What the waiters are told when this replica ends the tail itself. */
  endedAs?: WaitOutcome;
}

/** The reason a tail's stream is cancelled (a DOMException with a stack, abort()'s default, costs more). */
const TAIL_ENDED = new Error('the tail was ended here');
const DEFAULT_IDLE_MS = 10_000;
const DEFAULT_SILENCE_MS = 15_000;

/**
 * Follows the partitions consumers wait on with one Tail stream each from their owning broker: the
 * broker pushes records as they become durable, they go into the read-ahead cache, and every
 * consumer waiting at the head of the partition wakes. A consumer that caught up costs the broker
 * a write per batch instead of a Fetch request per delivery. A tail is opened by the first wait at a
 * partition (a consumer waits only when it caught up), moves with the partition's owner and epoch,
 * and is closed when nobody waited at its head for a while; consumers behind the head read from
 * the cache or the source as before.
 */
export class PartitionTails implements RecordWatch {
  private readonly tails = new Map<string, Tail>();
  /** Brokers that answered UNIMPLEMENTED: their partitions are long-polled (`fallback`). */
  private readonly untailable = new Set<string>();
  private readonly idleMs: number;
  private readonly silenceMs: number;
  private readonly maxAhead: number;
  private readonly watchdog: NodeJS.Timeout;

  constructor(private readonly options: PartitionTailsOptions) {
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.silenceMs = options.silenceMs ?? DEFAULT_SILENCE_MS;
    this.maxAhead = options.maxAhead ?? 10 * options.readAhead;
    const checkEveryMs = Math.max(10, Math.min(this.idleMs, this.silenceMs) / 4);
    this.watchdog = setInterval(() => this.closeStale(), checkEveryMs);
    this.watchdog.unref();
  }

  /** Tails open now. */
  get open(): number {
    return this.tails.size;
  }

  wait(partition: Partition, address: string, offset: number, maxWaitMs: number, round: WaitRound): Promise<WaitOutcome> {
    if (round.over) return Promise.resolve('idle');
    if (this.untailable.has(address)) return this.options.fallback.wait(partition, address, offset, maxWaitMs, round);
    if (this.options.walStarts.below(partition, address, offset)) return Promise.resolve('at-source');
    const tail = this.follow(partition, address, offset);
    if (offset < tail.next) return Promise.resolve(this.readyAt(partition, offset));
    return new Promise<WaitOutcome>((resolve) => {
      const leave = (): void => waiter.settle('idle');
      const timer = setTimeout(leave, maxWaitMs);
      const waiter: TailWaiter = {
        offset,
        settle: (outcome) => {
          clearTimeout(timer);
          round.offOver(leave);
          tail.waiters.delete(waiter);
          resolve(outcome);
        },
      };
      round.onOver(leave);
      tail.waiters.add(waiter);
    });
  }

  close(): void {
    clearInterval(this.watchdog);
    for (const tail of [...this.tails.values()]) this.end(tail, 'idle');
    this.options.fallback.close();
  }

  /** The partition's tail on `address` under its current epoch, opened at `offset` if there is none. */
  private follow(partition: Partition, address: string, offset: number): Tail {
    let tail = this.current(partition, address);
    if (!tail) {
      const now = Date.now();
      tail = { partition, address, next: offset, waiters: new Set(), controller: new AbortController(), wanted: now, unclaimed: 0, heard: now };
      this.tails.set(cacheKey(partition), tail);
      this.options.metrics?.openTails.inc();
      void this.run(tail);
    }
    if (offset >= tail.next) this.claim(tail);
    return tail;
  }

  /** A consumer is at the tail's head: what it pushed is being read. */
  private claim(tail: Tail): void {
    tail.wanted = Date.now();
    tail.unclaimed = 0;
  }

  /** The partition's open tail, if it follows `address` under the partition's epoch; a stale one is ended. */
  private current(partition: Partition, address: string): Tail | undefined {
    const tail = this.tails.get(cacheKey(partition));
    if (!tail) return undefined;
    // The owner or epoch moved on: what the old tail pushes no longer counts.
    if (tail.partition.epoch === partition.epoch && tail.address === address) return tail;
    this.end(tail, 'unavailable');
    return undefined;
  }

  private async run(tail: Tail): Promise<void> {
    const { partition, address } = tail;
    let outcome: WaitOutcome = 'unavailable';
    try {
      const stream = this.options.brokers.client(address).tail(
        {
          topicId: partition.topicId,
          partitionId: partition.partitionId,
          offset: BigInt(tail.next),
          maxRecords: this.options.readAhead,
          maxBytes: this.options.fetchMaxBytes ?? DEFAULT_FETCH_MAX_BYTES,
          acceptRecordsData: true,
          epoch: partition.epoch,
        },
        { signal: tail.controller.signal },
      );
      for await (const response of stream) {
        tail.heard = Date.now();
        this.options.walStarts.note(partition, address, Number(response.walStartOffset));
        const records = contiguousFrom(fetchedRecordsOf(response), tail.next);
        if (records.length === 0) continue;
        this.store(tail, records);
        tail.next = records[records.length - 1]!.offset + 1;
        this.options.metrics?.tailRecords.inc(records.length);
        tail.unclaimed += records.length;
        if (tail.waiters.size === 0 && tail.unclaimed > this.maxAhead) {
          this.end(tail, 'idle');
          break;
        }
        for (const waiter of [...tail.waiters]) if (waiter.offset < tail.next) waiter.settle(this.readyAt(partition, waiter.offset));
        // Opened behind the head (a consumer with a backlog there): this answer was its read-ahead, as
        // a Fetch's would be; the rest is read when it is wanted, not pushed through the cache.
        if (tail.waiters.size === 0 && Number(response.endOffset) - tail.next >= this.options.readAhead) {
          this.end(tail, 'idle');
          break;
        }
      }
      // Ended by the broker: the partition moved to a new epoch, or the broker is stopping.
    } catch (error) {
      if (tail.controller.signal.aborted) {
        outcome = tail.endedAs ?? 'idle';
      } else {
        const failure = fromConnectError(error);
        if (error instanceof ConnectError && error.code === Code.Unimplemented) this.untailable.add(address);
        // Below the broker's WAL start: those records are committed in PostgreSQL, readable now.
        if (tail.next < this.options.walStarts.noteRefusal(partition, address, failure)) outcome = 'at-source';
        this.options.logger.debug(
          { code: failure.code, topicId: partition.topicId, partitionId: partition.partitionId, offset: tail.next, broker: address },
          'tail stream ended',
        );
      }
    } finally {
      this.end(tail, outcome);
    }
  }

  /**
   * Puts pushed records in the read-ahead cache when they continue its run of the partition (or
   * there is none). A run elsewhere serves consumers behind the head; it is replaced only when a
   * consumer waits for these records.
   */
  private store(tail: Tail, records: FetchedRecord[]): void {
    const key = cacheKey(tail.partition);
    const end = this.options.cache.endOf(key, tail.partition.epoch);
    if (end === undefined || end >= records[0]!.offset || tail.waiters.size > 0) this.options.cache.put(key, tail.partition.epoch, records);
  }

  /** What a waiter at `offset` behind the head does: read the cache, or the source when the cache does not hold it. */
  private readyAt(partition: Partition, offset: number): WaitOutcome {
    return (this.options.cache.get(cacheKey(partition), partition.epoch, offset, 1)?.length ?? 0) > 0 ? 'cached' : 'at-source';
  }

  /** Ends a tail (once): cancels its stream and tells its waiters `outcome`. */
  private end(tail: Tail, outcome: WaitOutcome): void {
    const key = cacheKey(tail.partition);
    if (this.tails.get(key) === tail) {
      this.tails.delete(key);
      this.options.metrics?.openTails.dec();
    }
    if (!tail.controller.signal.aborted) {
      tail.endedAs = outcome;
      tail.controller.abort(TAIL_ENDED);
    }
    for (const waiter of [...tail.waiters]) waiter.settle(tail.endedAs ?? outcome);
  }

  /** Closes tails nobody followed for `idleMs`, and those whose broker went silent for `silenceMs`. */
  private closeStale(): void {
    const now = Date.now();
    for (const tail of [...this.tails.values()]) {
      if (now - tail.heard > this.silenceMs) this.end(tail, 'unavailable');
      else if (tail.waiters.size === 0 && now - tail.wanted > this.idleMs) this.end(tail, 'idle');
    }
  }
}
