import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import {
  Acks,
  decodeAppendRecordBatch,
  decodePartitionOffsets,
  decodeRecord,
  encodeGetUpdatesResponse,
  encodeStoredRecordsAnswer,
  FetchResponseSchema,
  PartitionOffsetSchema,
  TailResponseSchema,
  encodeAppendAnswer,
  WireFormatError,
  type AppendRequest,
  type BrokerService,
  type GetUpdatesRequest,
  type PartitionOffset,
  type PartitionUpdate,
  type RecordFields,
  type StoredRecordsAnswerSchema,
} from '@partq/proto';
import type { WalRecord } from '@partq/wal';
import { answerMultiplexedCalls, PartqError, withWireBytes, type MultiplexedAnswer, type MultiplexedCallsOptions } from '@partq/runtime';
import type { BrokerMetrics } from '../broker-metrics.js';
import type { PartitionLog } from '../log/partition-log.js';
import type { PartitionStore } from '../log/partition-store.js';
import { RecordArrivals } from '../log/record-arrivals.js';
import { UpdatesReadiness, type WantedPartition } from '../log/updates-readiness.js';
import { toStoreAssignments } from '../membership/assignments.js';
import type { StallFence } from '../membership/stall-fence.js';

export interface BrokerServiceOptions {
  store: PartitionStore;
  metrics: BrokerMetrics;
  /** Largest payload plus key of one record. */
  maxMessageBytes: number;
  /** How long an acks=all append waits for the manager's commit. */
  acksAllTimeoutMs: number;
  /** A tail with nothing to push sends an empty response this often, so its reader can tell a quiet partition from a dead path. */
  tailHeartbeatMs: number;
  /** Refuses appends after the process stalled, until the manager confirms its partitions. */
  stallFence: StallFence;
  /** What the Append calls of an AppendStream tell: their failures (to log) and outcomes (to count). */
  appendCalls?: Pick<MultiplexedCallsOptions, 'onError' | 'onAnswered'>;
}

/**
 * Append calls one AppendStream runs at once. The gateway keeps one Append in flight per partition
 * it writes to on this broker; a caller that sends more waits, as its stream is read no further.
 */
const APPEND_STREAM_CALLS_IN_FLIGHT = 256;

export const FETCH_DEFAULT_MAX_RECORDS = 500;
export const FETCH_DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const FETCH_LIMIT_MAX_RECORDS = 10_000;
const FETCH_LIMIT_MAX_BYTES = 32 * 1024 * 1024;
/** Longest long-poll of a Fetch: a caller that waits longer asks again. */
export const FETCH_MAX_WAIT_MS = 30_000;
const UPDATES_DEFAULT_MAX_RECORDS = 1000;
/** Keeps a GetUpdates answer well below the 64 MiB message limit. */
const UPDATES_MAX_BYTES = 32 * 1024 * 1024;
const UPDATES_MAX_WAIT_MS = 60_000;

export type BrokerServiceImpl = ServiceImpl<typeof BrokerService>;

/**
 * The BrokerService handlers. Errors are thrown as PartqError; the caller wraps the object with
 * wrapServiceImpl so the codes reach clients. `interrupt()` (shutdown) makes long-polls answer at once.
 */
export class BrokerServiceHandlers {
  private interrupted = false;
  /** Aborted by interrupt(): AppendStreams read no further calls and end. */
  private readonly stopping = new AbortController();
  private readonly arrivals: RecordArrivals;

  constructor(private readonly options: BrokerServiceOptions) {
    this.arrivals = new RecordArrivals(options.store);
  }

  /** The Connect implementation (plain functions, so no helper of this class is exposed as an RPC). */
  implementation(): BrokerServiceImpl {
    return {
      append: (request) => this.append(request),
      appendStream: (calls) => this.appendStream(calls),
      fetch: (request, context) => this.fetch(request, context),
      tail: (request, context) => this.tail(request, context),
      getOffsets: (request) => this.getOffsets(request),
      getUpdates: (request, context) => this.getUpdates(request, context),
      commit: (request) => this.commit(request),
      assign: (request) => this.assign(request),
    };
  }

  interrupt(): void {
    this.interrupted = true;
    this.stopping.abort();
    this.options.store.interrupt();
    this.arrivals.wakeAll();
  }

  /** Append calls as messages of one stream (see answerMultiplexedCalls), answers written by hand where they can be. */
  private appendStream(calls: Parameters<BrokerServiceImpl['appendStream']>[0]) {
    return answerMultiplexedCalls(calls, (request) => this.append(request), {
      ...this.options.appendCalls,
      maxInFlight: APPEND_STREAM_CALLS_IN_FLIGHT,
      stop: this.stopping.signal,
      encode: encodedAnswer,
    });
  }

  private async append(request: Parameters<BrokerServiceImpl['append']>[0]) {
    const { topicId, partitionId } = request;
    const records = recordsOf(request);
    if (records.length === 0) throw new PartqError('INVALID_ARGUMENT', 'append needs at least one record', { topicId, partitionId });
    records.forEach((record, index) => {
      const bytes = record.payload.byteLength + (record.key?.byteLength ?? 0);
      if (bytes > this.options.maxMessageBytes) {
        throw new PartqError(
          'PAYLOAD_TOO_LARGE',
          `record ${index} has ${bytes} bytes (payload plus key); the limit is ${this.options.maxMessageBytes}`,
          { index, bytes, maxMessageBytes: this.options.maxMessageBytes },
        );
      }
      if (record.sequence !== undefined && !inSequenceRange(record.sequence)) {
        throw new PartqError('INVALID_ARGUMENT', `record ${index}: sequence ${record.sequence} is out of range`, { index });
      }
      if (record.previousSequence !== undefined && (record.sequence === undefined || !inSequenceRange(record.previousSequence))) {
        throw new PartqError('INVALID_ARGUMENT', `record ${index}: previous_sequence ${record.previousSequence} is out of range or without a sequence`, { index });
      }
    });
    const log = this.options.store.require(topicId, partitionId);
    const acksAll = request.acks === Acks.ALL;
    const { stallFence } = this.options;
    const startedAt = stallFence.assertServing();
    const outcome = await log.append(request.epoch, records, startedAt, acksAll);
    this.options.metrics.appended(topicId, partitionId, records.length, outcome.written);
    // Frozen while it was written: the partition may have moved meanwhile, so no acknowledgement. A retry
    // with the same sequence lands once, here or at the new owner.
    stallFence.assertNoStallSince(startedAt);
    if (acksAll) await log.waitCommitted(outcome.lastOffset, this.options.acksAllTimeoutMs);
    // Readers see the records once the answer has left: Node runs the HTTP/2 sessions' writes (native
    // immediates) before this, unless the socket is full. Frozen before that, the broker answers nobody
    // and shows the records to nobody, so no consumer reads a record its producer will send again.
    setImmediate(() => log.acknowledge(outcome));
    const duplicates: { index: number; offset: bigint }[] = [];
    outcome.duplicates.forEach((duplicate, index) => {
      if (duplicate) duplicates.push({ index, offset: BigInt(outcome.offsets[index]!) });
    });
    return { baseOffset: BigInt(outcome.baseOffset), duplicates };
  }

  /** Records from `offset`; with max_wait_ms, at the end of the log it waits for the next append first. */
  private async fetch(request: Parameters<BrokerServiceImpl['fetch']>[0], context: HandlerContext) {
    const offset = Number(request.offset);
    if (offset < 0) throw new PartqError('INVALID_ARGUMENT', `offset must not be negative, got ${offset}`);
    let log = this.options.store.require(request.topicId, request.partitionId);
    log.assertReadableUnder(request.epoch);
    const maxWaitMs = Math.min(Math.max(request.maxWaitMs, 0), FETCH_MAX_WAIT_MS);
    if (maxWaitMs > 0 && log.waitsAt(offset) && !this.interrupted) {
      await this.arrivals.wait(request.topicId, request.partitionId, offset, maxWaitMs, context.signal);
      // Closed or moved while we waited: NOT_OWNER, the caller looks up the new owner.
      log = this.options.store.require(request.topicId, request.partitionId);
      log.assertReadableUnder(request.epoch);
    }
    const maxRecords = limit(request.maxRecords, FETCH_DEFAULT_MAX_RECORDS, FETCH_LIMIT_MAX_RECORDS);
    const maxBytes = limit(request.maxBytes, FETCH_DEFAULT_MAX_BYTES, FETCH_LIMIT_MAX_BYTES);
    return recordsAnswer(FetchResponseSchema, await log.readStored(offset, maxRecords, maxBytes), log, request.acceptRecordsData);
  }

  /**
   * Pushes the records of a partition from `offset` on as they become readable (durable; acks=all ones
   * once committed), until the caller
   * goes or the broker stops. The stream ends (normally) when the partition's log is replaced or
   * its epoch moves on, so that the caller re-reads the metadata before it follows the new epoch;
   * with NOT_OWNER when the partition is not here any more.
   */
  private async *tail(request: Parameters<BrokerServiceImpl['tail']>[0], context: HandlerContext) {
    const { topicId, partitionId } = request;
    let offset = Number(request.offset);
    if (offset < 0) throw new PartqError('INVALID_ARGUMENT', `offset must not be negative, got ${offset}`);
    const maxRecords = limit(request.maxRecords, FETCH_DEFAULT_MAX_RECORDS, FETCH_LIMIT_MAX_RECORDS);
    const maxBytes = limit(request.maxBytes, FETCH_DEFAULT_MAX_BYTES, FETCH_LIMIT_MAX_BYTES);
    const log = this.options.store.require(topicId, partitionId);
    log.assertReadableUnder(request.epoch);
    const epoch = log.epoch;
    const { metrics, tailHeartbeatMs } = this.options;
    metrics.tailStreams(1);
    try {
      while (!this.interrupted && !context.signal.aborted) {
        const current = this.options.store.require(topicId, partitionId);
        if (current !== log || current.epoch !== epoch) return;
        if (log.waitsAt(offset)) {
          const quietSince = Date.now();
          await this.arrivals.wait(topicId, partitionId, offset, tailHeartbeatMs, context.signal);
          if (log.waitsAt(offset) && Date.now() - quietSince >= tailHeartbeatMs) {
            yield { records: [], endOffset: BigInt(log.readableEnd), walStartOffset: BigInt(log.startOffset) };
          }
          continue;
        }
        const stored = await log.readStored(offset, maxRecords, maxBytes);
        // Truncated and taken under a new epoch while it read: these may not be the records the tail followed.
        if (log.epoch !== epoch) return;
        const last = stored[stored.length - 1];
        if (!last) continue;
        offset = last.offset + 1;
        metrics.tailPushed(stored.length);
        yield recordsAnswer(TailResponseSchema, stored, log, request.acceptRecordsData);
      }
    } finally {
      metrics.tailStreams(-1);
    }
  }

  private getOffsets(request: Parameters<BrokerServiceImpl['getOffsets']>[0]) {
    const { store } = this.options;
    const logs = request.partitions.length === 0 ? store.logs() : request.partitions.map((p) => store.require(p.topicId, p.partitionId));
    return { endOffsets: logs.map((log) => endOffsetOf(log)) };
  }

  /**
   * The manager's long-poll: records past its committed high watermark (`from`) for every listed partition
   * owned here, each labelled with its epoch; a partition with none is left out. Waits until `min_records`
   * are pending, an acks=all append is waiting, or `max_wait_ms` passed. A round's cost per listed
   * partition is a few lookups: the manager lists every partition the broker owns, each round.
   */
  private async getUpdates(request: Parameters<BrokerServiceImpl['getUpdates']>[0], context: HandlerContext) {
    const { store } = this.options;
    const maxWaitMs = Math.min(Math.max(request.maxWaitMs, 0), UPDATES_MAX_WAIT_MS);
    const maxRecords = limit(request.maxRecords, UPDATES_DEFAULT_MAX_RECORDS, Number.MAX_SAFE_INTEGER);
    const minRecords = Math.max(request.minRecords, 1);
    const deadline = Date.now() + maxWaitMs;
    const wanted = wantedPartitions(request);

    // `from` is committed in PostgreSQL: the manager's news of its last sync, which releases acks=all
    // waiters. Every partition's waiters go before any WAL trim is awaited.
    const commits: Promise<void>[] = [];
    for (const p of wanted) {
      const log = store.get(p.topicId, p.partitionId);
      if (log && p.from > log.committed) commits.push(log.commit(p.from));
    }
    await Promise.all(commits);

    const readiness = new UpdatesReadiness(store, wanted, minRecords);
    const ready = (changed?: PartitionLog): boolean => this.interrupted || readiness.ready(changed);
    if (!ready()) await store.changes.until(ready, deadline - Date.now(), context.signal);

    const updates: PartitionUpdate[] = [];
    let recordBudget = maxRecords;
    let byteBudget = UPDATES_MAX_BYTES;
    for (const p of wanted) {
      if (recordBudget <= 0 || byteBudget <= 0) break;
      const log = store.get(p.topicId, p.partitionId);
      if (!log || log.pendingSince(p.from) === 0) continue;
      let read: { epoch: number; records: Uint8Array[] };
      try {
        read = await log.readForSync(p.from, recordBudget, byteBudget);
      } catch (error) {
        // Lost between the check and the read: not ours to report any more.
        if (error instanceof PartqError && error.code === 'NOT_OWNER') continue;
        throw error;
      }
      if (read.records.length === 0) continue;
      recordBudget -= read.records.length;
      byteBudget -= read.records.reduce((sum, r) => sum + r.byteLength, 0);
      updates.push({ topicId: p.topicId, partitionId: p.partitionId, epoch: read.epoch, records: read.records });
    }
    // The stored bytes go out as they are, copied once into the answer: the manager reads them with the same codec.
    const { bytes, response } = encodeGetUpdatesResponse(updates, request.fromData.byteLength > 0);
    return withWireBytes(response, bytes);
  }

  /** The manager committed these offsets to PostgreSQL: release acks=all waiters, trim the WALs. Older managers call it after each sync; GetUpdates' `from` says the same now. */
  private async commit(request: Parameters<BrokerServiceImpl['commit']>[0]) {
    await Promise.all(request.committed.map((c) => this.options.store.get(c.topicId, c.partitionId)?.commit(Number(c.offset))));
    return {};
  }

  private async assign(request: Parameters<BrokerServiceImpl['assign']>[0]) {
    await this.options.store.reconcile(toStoreAssignments(request.assignments), request.complete);
    return {};
  }
}

/** An answer without duplicates (every Append but an idempotent retry's) with its bytes written by hand; others as they are. */
function encodedAnswer<R extends { baseOffset: bigint; duplicates: readonly unknown[] }>(answer: MultiplexedAnswer<R>) {
  const { outcome } = answer;
  if (outcome.case !== 'response' || outcome.value.duplicates.length > 0) return answer;
  const encoded = encodeAppendAnswer(answer.callId, outcome.value.baseOffset);
  return encoded === undefined ? answer : withWireBytes(encoded.message, encoded.bytes);
}

/**
 * A Fetch or Tail answer. A reader of records_data (every replica of this version) gets the WAL's
 * stored bytes as they are, copied once into the answer; an older one gets decoded `records`.
 */
function recordsAnswer<S extends StoredRecordsAnswerSchema>(schema: S, stored: readonly WalRecord[], log: PartitionLog, acceptRecordsData: boolean) {
  if (!acceptRecordsData) {
    return { records: stored.map((entry) => decodeRecord(entry.data)), endOffset: BigInt(log.readableEnd), walStartOffset: BigInt(log.startOffset) };
  }
  const { bytes, answer } = encodeStoredRecordsAnswer(
    schema,
    stored.map((entry) => entry.data),
    log.readableEnd,
    log.startOffset,
  );
  return withWireBytes(answer, bytes);
}

/** What the idempotence index keeps exactly: 0 to 2^53 - 1. */
function inSequenceRange(sequence: bigint | number): boolean {
  return sequence >= 0 && sequence <= Number.MAX_SAFE_INTEGER;
}

/** The request's records: the hand-encoded records_data, or AppendRecord objects when it is empty. */
function recordsOf(request: AppendRequest): readonly RecordFields[] {
  if (request.records.length > 0 || request.recordsData.byteLength === 0) return request.records;
  try {
    return decodeAppendRecordBatch(request.recordsData);
  } catch (error) {
    if (error instanceof WireFormatError) throw new PartqError('INVALID_ARGUMENT', `append records_data: ${error.message}`, { reason: error.code });
    throw error;
  }
}

/** GetUpdates' partitions and committed high watermarks: the packed from_data, or PartitionOffset objects when it is empty. */
function wantedPartitions(request: GetUpdatesRequest): WantedPartition[] {
  if (request.fromData.byteLength === 0) {
    return request.from.map((p) => ({ topicId: p.topicId, partitionId: p.partitionId, from: Number(p.offset) }));
  }
  try {
    return decodePartitionOffsets(request.fromData).map((p) => ({ topicId: p.topicId, partitionId: p.partitionId, from: p.offset }));
  } catch (error) {
    if (error instanceof WireFormatError) throw new PartqError('INVALID_ARGUMENT', `get updates from_data: ${error.message}`, { reason: error.code });
    throw error;
  }
}

function endOffsetOf(log: PartitionLog): PartitionOffset {
  return create(PartitionOffsetSchema, { topicId: log.topicId, partitionId: log.partitionId, offset: BigInt(log.endOffset) });
}

/** A request limit: its default when unset (0 or negative), never above `max`. */
function limit(requested: number, fallback: number, max: number): number {
  return requested > 0 ? Math.min(requested, max) : fallback;
}
