import { create } from '@bufbuild/protobuf';
import { encodePartitionOffsets, indexRecordBatch, PartitionOffsetSchema, type GetUpdatesResponse, type PartitionOffset } from '@partq/proto';
import { describePostgresFailure, fromConnectError, sleep } from '@partq/runtime';
import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import type { PartitionRow } from '@partq/schema';
import type { BrokerClients } from '../membership/broker-clients.js';
import type { ClusterState } from '../state/cluster-state.js';
import type { LeanHistogram, Mutex } from '@partq/runtime';
import { lastOffsetOf, type MessageStore, type PartitionBatch } from '../store/message-store.js';
import type { TransactionLog } from '../txlog/transaction-log.js';

export interface BrokerSyncOptions {
  /** Longest a broker's new records wait before they are committed (<= 5 s). */
  intervalMs: number;
  /** Pending records that make the broker answer before the interval. */
  threshold: number;
  maxRecords: number;
  metrics: {
    committedRecords: Counter;
    batchSize: LeanHistogram;
    syncSeconds: LeanHistogram;
    /** Syncs that failed (the Central DB refused or could not be reached, the broker did not answer). */
    failures: Counter;
    /** Brokers whose last SYNC_FAILURES_BEFORE_WARNING syncs or more failed in a row. */
    failingBrokers: Gauge;
  };
}

/** Consecutive failed syncs of a broker before the manager warns of them. */
const SYNC_FAILURES_BEFORE_WARNING = 3;

/** A broker whose last SYNC_FAILURES_BEFORE_WARNING syncs or more failed, for the health table. */
export interface FailingSync {
  brokerId: number;
  /** Why the last one failed, fit for an unauthenticated health page (no SQL). */
  reason: string;
  /** When a sync of this broker last succeeded (ms since the epoch), 0 if none has since the manager started. */
  lastSyncedMs: number;
}

/**
 * Pulls each live broker's new records (a GetUpdates long-poll) and commits them to
 * PostgreSQL (MessageStore.commit); the next GetUpdates tells the broker the new high watermarks,
 * so it may trim its WAL and release acks=all producers. One loop per broker.
 */
export class BrokerSync {
  private readonly loops = new Map<number, AbortController>();
  private readonly failing = new Map<number, FailingSync>();
  private readonly lastSyncedMs = new Map<number, number>();

  constructor(
    private readonly state: ClusterState,
    private readonly brokers: BrokerClients,
    private readonly messages: MessageStore,
    private readonly lock: Mutex,
    private readonly txlog: TransactionLog,
    private readonly logger: Logger,
    private readonly options: BrokerSyncOptions,
  ) {}

  /** Starts the loop of a broker unless it runs already. */
  ensure(brokerId: number): void {
    if (this.loops.has(brokerId)) return;
    const abort = new AbortController();
    this.loops.set(brokerId, abort);
    void this.run(brokerId, abort.signal).finally(() => {
      if (this.loops.get(brokerId)?.signal === abort.signal) this.loops.delete(brokerId);
    });
  }

  /** Brokers whose syncs keep failing, by broker id. */
  failingSyncs(): FailingSync[] {
    return [...this.failing.values()].sort((a, b) => a.brokerId - b.brokerId);
  }

  stopAll(): void {
    for (const abort of this.loops.values()) abort.abort();
    this.loops.clear();
  }

  private async run(brokerId: number, signal: AbortSignal): Promise<void> {
    try {
      await this.loop(brokerId, signal);
    } finally {
      this.setFailing(brokerId, undefined);
    }
  }

  private async loop(brokerId: number, signal: AbortSignal): Promise<void> {
    let failures = 0;
    // Whether the broker reads from_data: then `from` is left out (see GetUpdatesRequest).
    let packedOnly = false;
    while (!signal.aborted) {
      const broker = this.state.brokers.get(brokerId);
      if (!broker || broker.state === 'dead') return;
      try {
        packedOnly = await this.syncOnce(brokerId, signal, packedOnly);
        if (failures >= SYNC_FAILURES_BEFORE_WARNING) this.logger.info({ broker: brokerId, failures }, 'broker sync works again');
        failures = 0;
        this.lastSyncedMs.set(brokerId, Date.now());
        this.setFailing(brokerId, undefined);
      } catch (error) {
        if (signal.aborted) return;
        // It may come back as another version.
        packedOnly = false;
        failures++;
        this.options.metrics.failures.inc();
        if (failures >= SYNC_FAILURES_BEFORE_WARNING) {
          this.setFailing(brokerId, { brokerId, reason: describeSyncFailure(error), lastSyncedMs: this.lastSyncedMs.get(brokerId) ?? 0 });
        }
        // A broker that stops (the cluster's Ctrl-C stops brokers before the manager) fails a sync or
        // two: a warning once it has failed three times in a row (~0.7 s), and every 20th time after.
        if (failures === SYNC_FAILURES_BEFORE_WARNING || failures % 20 === 0) this.logger.warn({ err: error, broker: brokerId, failures }, 'broker sync failed; retrying');
        else this.logger.debug({ err: error, broker: brokerId, failures }, 'broker sync failed; retrying');
        await sleep(Math.min(2000, 100 * 2 ** Math.min(failures, 5)), signal).catch(() => undefined);
      }
    }
  }

  private setFailing(brokerId: number, failing: FailingSync | undefined): void {
    if (failing) this.failing.set(brokerId, failing);
    else if (!this.failing.delete(brokerId)) return;
    this.options.metrics.failingBrokers.set(this.failing.size);
  }

  /** One round; answers whether the broker read from_data. */
  private async syncOnce(brokerId: number, signal: AbortSignal, packedOnly: boolean): Promise<boolean> {
    const client = this.brokers.get(brokerId);
    const owned = this.state.partitionsOwnedBy(brokerId);
    if (!client || owned.length === 0) {
      await sleep(this.options.intervalMs, signal).catch(() => undefined);
      return packedOnly;
    }
    const updates: GetUpdatesResponse = await client.getUpdates(
      { ...committedFrom(owned, packedOnly), maxWaitMs: this.options.intervalMs, maxRecords: this.options.maxRecords, minRecords: this.options.threshold },
      { signal, timeoutMs: this.options.intervalMs + 10_000 },
    );
    const batches: PartitionBatch[] = [];
    // Only partitions with records come back (an older broker also sends the empty ones).
    for (const part of updates.partitions) {
      const current = this.state.partition(part.topicId, part.partitionId);
      // Records from an owner the manager has since replaced are never committed.
      if (!current || current.broker_id !== brokerId || current.epoch !== part.epoch || part.recordsData.byteLength === 0) continue;
      // The broker's stored record bytes are committed as they are; only the records' offsets and
      // extents are read. A malformed batch throws, so this round commits nothing and is retried.
      const index = indexRecordBatch(part.recordsData);
      if (index.offsets.length === 0) continue;
      batches.push({ topicId: part.topicId, partitionId: part.partitionId, epoch: part.epoch, from: current.high_watermark, data: part.recordsData, index });
    }
    if (batches.length > 0) {
      const started = process.hrtime.bigint();
      await this.lock.run(async () => {
        const event = {
          kind: 'sync' as const,
          brokerId,
          partitions: batches.map((b) => ({ topicId: b.topicId, partitionId: b.partitionId, epoch: b.epoch, to: lastOffsetOf(b) + 1 })),
        };
        const rows = await this.txlog.runAlongside(event, (logged) => this.messages.commit(batches, logged));
        if (rows.length > 0) this.state.apply({ partitions: rows });
      });
      const records = batches.reduce((n, b) => n + b.index.offsets.length, 0);
      this.options.metrics.committedRecords.inc(records);
      this.options.metrics.batchSize.observe(records);
      this.options.metrics.syncSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
    // No Commit call: the next round's GetUpdates, sent at once, names every committed high watermark
    // in `from_data`, and the broker applies them before it waits (releasing acks=all sends, trimming its
    // WAL). A Commit first cost each round a round trip before the next long-poll was out.
    return updates.fromDataRead;
  }
}

/**
 * The committed high watermark of every partition the broker owns, as GetUpdates names them each
 * round: packed by hand in from_data (a message each cost ~1.6 ms a round at 1 000 partitions), and
 * as `from` too until the broker has said it reads from_data (an older one reads only `from`;
 * should one come back after a newer, its round answers nothing and the next sends both again).
 */
function committedFrom(owned: readonly PartitionRow[], packedOnly: boolean): { fromData: Uint8Array; from?: PartitionOffset[] } {
  const fromData = encodePartitionOffsets(owned.map((p) => ({ topicId: p.topic_id, partitionId: p.partition_id, offset: p.high_watermark })));
  if (packedOnly) return { fromData };
  return { fromData, from: owned.map((p) => create(PartitionOffsetSchema, { topicId: p.topic_id, partitionId: p.partition_id, offset: BigInt(p.high_watermark) })) };
}

/**
 * Why a sync failed, in words for the health table: the Central DB's own failure named (a full
 * disk, a restart), any other database error without its text (it may quote SQL), and a broker's
 * failure (unreachable, stopping) as its RPC error says.
 */
function describeSyncFailure(error: unknown): string {
  const databaseFailure = describePostgresFailure(error);
  if (databaseFailure !== undefined) return databaseFailure;
  if (error !== null && typeof error === 'object' && typeof (error as { severity?: unknown }).severity === 'string') return 'the central database refused the records';
  return `the broker: ${fromConnectError(error).message}`;
}
