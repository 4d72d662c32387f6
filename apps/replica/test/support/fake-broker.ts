import { create, toBinary } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { encodeRecordBatch, PartitionOffsetSchema, RecordSchema, type BrokerService, type Record as BrokerRecord, type TailRequest } from '@partq/proto';
import { PartqError } from '@partq/runtime';

interface PartitionLog {
  /** The first offset still in the "WAL"; lower ones were trimmed after commit. */
  walStart: number;
  records: BrokerRecord[];
  /** The epoch the log is settled in; reads naming another are refused (STALE_EPOCH). Unset: not checked. */
  epoch?: number;
}

/**
 * A broker over in-memory arrays: appends, trims, and serves Fetch (long-polls too), Tail and
 * GetOffsets like the real one. `{ tail: false }` leaves Tail out (UNIMPLEMENTED, as an older broker);
 * `{ recordsData: false }` answers with `records` even to a caller that accepts records_data (a broker
 * from before records_data ignores the request's flag).
 */
export class FakeBroker {
  private readonly logs = new Map<string, PartitionLog>();
  /** Long-polls waiting for an append. */
  private readonly appendWaiters = new Set<() => void>();
  fetchCalls = 0;
  /** Fetches that asked to wait (max_wait_ms > 0). */
  longPolls = 0;
  getOffsetsCalls = 0;
  tailCalls = 0;
  /** Requests that reached the broker's server, by method name (counted before routing). */
  readonly requests = new Map<string, number>();
  /** Tail streams open now. */
  openTails = 0;
  /** Fetch and Tail answers that carried records, by the field they were in. */
  readonly answersWithRecords = { records: 0, recordsData: 0 };
  private readonly recordsData: boolean;
  private failure: 'UNAVAILABLE' | 'NOT_OWNER' | undefined;

  /** When set, every call fails with this code (a broker that is down or no longer the owner); open tails end with it. */
  get failWith(): 'UNAVAILABLE' | 'NOT_OWNER' | undefined {
    return this.failure;
  }

  set failWith(code: 'UNAVAILABLE' | 'NOT_OWNER' | undefined) {
    this.failure = code;
    for (const wake of [...this.appendWaiters]) wake();
  }

  noteRequest(method: string): void {
    this.requests.set(method, (this.requests.get(method) ?? 0) + 1);
  }

  /** Appends messages to a partition; resolves their offsets. */
  append(topicId: number, partitionId: number, payloads: string[]): number[] {
    const log = this.log(topicId, partitionId);
    const offsets = payloads.map((payload) => {
      const offset = log.walStart + log.records.length;
      log.records.push(
        create(RecordSchema, { offset: BigInt(offset), payload: Buffer.from(payload), producerId: 1, timestampMs: BigInt(Date.now()) }),
      );
      return offset;
    });
    for (const wake of [...this.appendWaiters]) wake();
    return offsets;
  }

  /** Starts an empty partition log at `offset` (a broker taking over at the high watermark), settled in `epoch` when given. */
  startAt(topicId: number, partitionId: number, offset: number, epoch?: number): void {
    this.logs.set(key(topicId, partitionId), { walStart: offset, records: [], ...(epoch === undefined ? {} : { epoch }) });
  }

  /** Settles the partition's log in `epoch`, as the real broker once it took that epoch and cut its log back. */
  settle(topicId: number, partitionId: number, epoch: number): void {
    this.log(topicId, partitionId).epoch = epoch;
  }

  /** Trims the WAL below `offset`, as after the manager committed those records. */
  trimBelow(topicId: number, partitionId: number, offset: number): void {
    const log = this.log(topicId, partitionId);
    const drop = Math.max(0, Math.min(offset - log.walStart, log.records.length));
    log.records.splice(0, drop);
    log.walStart += drop;
  }

  endOffset(topicId: number, partitionId: number): number {
    const log = this.log(topicId, partitionId);
    return log.walStart + log.records.length;
  }

  readonly impl: Partial<ServiceImpl<typeof BrokerService>>;

  constructor(options: { tail?: boolean; recordsData?: boolean } = {}) {
    this.recordsData = options.recordsData ?? true;
    this.impl = { ...this.unary, ...(options.tail === false ? {} : { tail: (request, context) => this.tail(request, context) }) };
  }

  private readonly unary: Partial<ServiceImpl<typeof BrokerService>> = {
    fetch: async (request, context) => {
      this.fetchCalls++;
      if (request.maxWaitMs > 0) this.longPolls++;
      if (this.failWith) throw new PartqError(this.failWith, 'fake broker failure');
      const log = this.log(request.topicId, request.partitionId);
      assertSettledIn(log, request.epoch);
      const offset = Number(request.offset);
      if (request.maxWaitMs > 0 && offset === log.walStart + log.records.length) {
        await this.appended(request.maxWaitMs, context.signal);
      }
      if (offset < log.walStart) {
        throw new PartqError('OFFSET_OUT_OF_RANGE', `offset ${offset} is below the WAL start ${log.walStart}`, { walStartOffset: log.walStart });
      }
      const index = offset - log.walStart;
      return this.answer(log, log.records.slice(index, index + Math.max(1, request.maxRecords)), request.acceptRecordsData);
    },
    getOffsets: async (request) => {
      this.getOffsetsCalls++;
      if (this.failWith) throw new PartqError(this.failWith, 'fake broker failure');
      return {
        endOffsets: request.partitions.map((p) =>
          create(PartitionOffsetSchema, { topicId: p.topicId, partitionId: p.partitionId, offset: BigInt(this.endOffset(p.topicId, p.partitionId)) }),
        ),
      };
    },
  };

  /** Pushes the partition's records from the offset on, and each append after, until the caller goes. */
  private async *tail(request: TailRequest, context: HandlerContext) {
    this.tailCalls++;
    this.openTails++;
    try {
      let offset = Number(request.offset);
      assertSettledIn(this.log(request.topicId, request.partitionId), request.epoch);
      while (!context.signal.aborted) {
        if (this.failWith) throw new PartqError(this.failWith, 'fake broker failure');
        const log = this.log(request.topicId, request.partitionId);
        if (offset < log.walStart) {
          throw new PartqError('OFFSET_OUT_OF_RANGE', `offset ${offset} is below the WAL start ${log.walStart}`, { walStartOffset: log.walStart });
        }
        const index = offset - log.walStart;
        if (index < log.records.length) {
          const records = log.records.slice(index, index + Math.max(1, request.maxRecords));
          offset += records.length;
          yield this.answer(log, records, request.acceptRecordsData);
          continue;
        }
        await this.appended(60_000, context.signal);
      }
    } finally {
      this.openTails--;
    }
  }

  /** A Fetch or Tail answer: the records in records_data when the caller accepts it (and this broker knows it), else in `records`. */
  private answer(log: PartitionLog, records: BrokerRecord[], acceptRecordsData: boolean) {
    const offsets = { endOffset: BigInt(log.walStart + log.records.length), walStartOffset: BigInt(log.walStart) };
    if (records.length > 0) this.answersWithRecords[acceptRecordsData && this.recordsData ? 'recordsData' : 'records']++;
    if (!acceptRecordsData || !this.recordsData) return { records, ...offsets };
    return { records: [], recordsData: encodeRecordBatch(records.map((record) => toBinary(RecordSchema, record))), ...offsets };
  }

  /** Resolves at the next append (to any partition), after `ms`, or when `signal` aborts. */
  private appended(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.appendWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.appendWaiters.add(done);
    });
  }

  private log(topicId: number, partitionId: number): PartitionLog {
    let log = this.logs.get(key(topicId, partitionId));
    if (!log) {
      log = { walStart: 0, records: [] };
      this.logs.set(key(topicId, partitionId), log);
    }
    return log;
  }
}

function key(topicId: number, partitionId: number): string {
  return `${topicId}/${partitionId}`;
}

/** As the real broker: a read naming an epoch the log is not settled in is refused. */
function assertSettledIn(log: PartitionLog, epoch: number): void {
  if (epoch !== 0 && log.epoch !== undefined && log.epoch !== epoch) {
    throw new PartqError('STALE_EPOCH', `the log is settled in epoch ${log.epoch}, not ${epoch}`, { currentEpoch: log.epoch });
  }
}
