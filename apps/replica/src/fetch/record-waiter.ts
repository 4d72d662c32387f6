import type { Partition } from '@partq/proto';
import { fromConnectError, type Logger } from '@partq/runtime';
import type { BrokerClientPool } from './broker-client-pool.js';
import { DEFAULT_BROKER_TIMEOUT_MS, DEFAULT_FETCH_MAX_BYTES } from './fetch-defaults.js';
import { contiguousFrom, fetchedRecordsOf } from './fetched-record.js';
import { cacheKey } from './partition-reader.js';
import type { ReadAheadCache } from './read-ahead-cache.js';
import type { RecordWatch, WaitOutcome } from './record-watch.js';
import type { WaitRound } from './wait-round.js';
import type { WalStarts } from './wal-starts.js';

export interface RecordWaiterOptions {
  brokers: BrokerClientPool;
  cache: ReadAheadCache;
  /** Brokers' WAL starts: below them there is nothing to long-poll for (the records are in PostgreSQL). */
  walStarts: WalStarts;
  /** Records asked of the broker per long-poll (they go into the read-ahead cache). */
  readAhead: number;
  fetchMaxBytes?: number;
  /** Added to the wait for the RPC deadline: a stopped broker must not hold a waiter for long. */
  brokerTimeoutMs?: number;
  logger: Pick<Logger, 'debug'>;
}

interface SharedPoll {
  outcome: Promise<WaitOutcome>;
  controller: AbortController;
  waiters: number;
  /** The broker answered (or the fetch failed): nothing is waited for any more. */
  settled: boolean;
  /** Cancels the fetch once nobody came back for it (see LINGER_MS). */
  linger?: NodeJS.Timeout;
}

/** An empty answer this much earlier than the wait asked for means the broker did not wait. */
const EARLY_ANSWER_SLACK_MS = 100;
/**
 * How long a fetch nobody waits on any more is kept before it is cancelled: a stream that looks
 * everywhere again (an owner moved, its heartbeat) or reconnects waits again within milliseconds,
 * mostly at the same offsets, and rejoins it instead of cancelling it and asking the broker again.
 */
const LINGER_MS = 1000;

/**
 * Long-polls the owning broker (Fetch with max_wait_ms) for the next records of a partition. The
 * consumers of a topic that caught up all wait at the same offset, so waits for the same partition,
 * epoch and offset share one Fetch; it is cancelled when none of them came back for it for a moment
 * after the last gave up.
 */
export class RecordWaiter implements RecordWatch {
  private readonly polls = new Map<string, SharedPoll>();

  constructor(private readonly options: RecordWaiterOptions) {}

  /** Fetches in flight (shared ones count once). */
  get inFlight(): number {
    return this.polls.size;
  }

  /**
   * Waits up to `maxWaitMs` for a record at `offset` of `partition` on the broker at `address`.
   * Resolves `idle` at once when `round` ends (the shared Fetch goes on while others wait on it).
   */
  wait(partition: Partition, address: string, offset: number, maxWaitMs: number, round: WaitRound): Promise<WaitOutcome> {
    if (round.over) return Promise.resolve('idle');
    if (this.options.walStarts.below(partition, address, offset)) return Promise.resolve('at-source');
    const key = pollKey(partition, address, offset);
    const shared = this.polls.get(key) ?? this.start(key, partition, address, offset, maxWaitMs);
    shared.waiters++;
    clearTimeout(shared.linger);
    return new Promise<WaitOutcome>((resolve) => {
      const leave = (): void => {
        round.offOver(leave);
        shared.waiters--;
        if (shared.waiters === 0) this.linger(key, shared);
        resolve('idle');
      };
      round.onOver(leave);
      void shared.outcome.then((outcome) => {
        if (round.over) return;
        round.offOver(leave);
        shared.waiters--;
        resolve(outcome);
      });
    });
  }

  /** Cancels every fetch (shutdown). */
  close(): void {
    for (const poll of this.polls.values()) {
      clearTimeout(poll.linger);
      poll.controller.abort();
    }
    this.polls.clear();
  }

  private start(key: string, partition: Partition, address: string, offset: number, maxWaitMs: number): SharedPoll {
    const controller = new AbortController();
    const created: SharedPoll = { controller, waiters: 0, settled: false, outcome: Promise.resolve('idle') };
    created.outcome = this.poll(partition, address, offset, maxWaitMs, controller.signal).finally(() => {
      created.settled = true;
      clearTimeout(created.linger);
      if (this.polls.get(key) === created) this.polls.delete(key);
    });
    this.polls.set(key, created);
    return created;
  }

  /** Cancels the fetch LINGER_MS from now unless someone waits on it by then. */
  private linger(key: string, shared: SharedPoll): void {
    if (shared.settled) return;
    clearTimeout(shared.linger);
    shared.linger = setTimeout(() => {
      if (shared.waiters > 0) return;
      shared.controller.abort();
      if (this.polls.get(key) === shared) this.polls.delete(key);
    }, LINGER_MS);
  }

  private async poll(partition: Partition, address: string, offset: number, maxWaitMs: number, signal: AbortSignal): Promise<WaitOutcome> {
    const started = Date.now();
    try {
      const answer = await this.options.brokers.client(address).fetch(
        {
          topicId: partition.topicId,
          partitionId: partition.partitionId,
          offset: BigInt(offset),
          maxRecords: this.options.readAhead,
          maxBytes: this.options.fetchMaxBytes ?? DEFAULT_FETCH_MAX_BYTES,
          maxWaitMs,
          acceptRecordsData: true,
          epoch: partition.epoch,
        },
        { signal, timeoutMs: maxWaitMs + (this.options.brokerTimeoutMs ?? DEFAULT_BROKER_TIMEOUT_MS) },
      );
      this.options.walStarts.note(partition, address, Number(answer.walStartOffset));
      const answered = fetchedRecordsOf(answer);
      const records = contiguousFrom(answered, offset);
      if (records.length > 0) {
        this.options.cache.put(cacheKey(partition), partition.epoch, records);
        return 'cached';
      }
      // Records past `offset` only, or a WAL that starts past it: the ones before are in PostgreSQL.
      if (answered.length > 0 || offset < Number(answer.walStartOffset)) return 'at-source';
      return Date.now() - started < maxWaitMs - EARLY_ANSWER_SLACK_MS ? 'unavailable' : 'idle';
    } catch (error) {
      if (signal.aborted) return 'idle';
      const failure = fromConnectError(error);
      // Below the broker's WAL start: those records are in PostgreSQL, readable now.
      if (offset < this.options.walStarts.noteRefusal(partition, address, failure)) return 'at-source';
      this.options.logger.debug(
        { code: failure.code, topicId: partition.topicId, partitionId: partition.partitionId, offset, broker: address },
        'long-poll fetch failed',
      );
      return 'unavailable';
    }
  }
}

function pollKey(partition: Partition, address: string, offset: number): string {
  return `${cacheKey(partition)}@${partition.epoch}:${offset}/${address}`;
}
