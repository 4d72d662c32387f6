import type { RecordFields } from '@partq/proto';
import { fromConnectError, PartqError, type ErrorCode } from '@partq/runtime';

/** One record of an Append (plain fields: the Append carries them hand-encoded). */
export type AppendRecordInit = RecordFields;

/** What one caller gets back: an offset and a duplicate flag per record it gave, in its order. */
export interface CoalescedAnswer {
  offsets: bigint[];
  duplicates: boolean[];
}

/** Sends one Append with these records (`bytes` of payloads and keys) to the lane's broker and partition (the caller's usual path). */
export type SendAppend = (records: AppendRecordInit[], deadline: number, bytes: number) => Promise<CoalescedAnswer>;

export interface AppendCoalescerOptions {
  /** Records in one combined Append, at most (a single caller's records always go whole). */
  maxRecords?: number;
  /** Payload and key bytes in one combined Append, at most. */
  maxBytes?: number;
  /** Called for every caller as its records leave in an Append, with how long they waited in the lane (ms). */
  onWaited?: (waitedMs: number) => void;
}

/**
 * Refusals that a broker gives before writing anything: when a combined Append gets one, each
 * caller's records are sent again on their own, so one bad request cannot fail the others.
 */
const REFUSED_BEFORE_WRITING: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE', 'OUT_OF_ORDER_SEQUENCE', 'SEQUENCE_GAP']);
const DEFAULT_MAX_RECORDS = 10_000;
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

interface Waiter {
  records: AppendRecordInit[];
  bytes: number;
  deadline: number;
  /** performance.now() when the caller joined the lane. */
  queuedAt: number;
  send: SendAppend;
  resolve(answer: CoalescedAnswer): void;
  reject(error: unknown): void;
}

interface Lane {
  inFlight: boolean;
  queue: Waiter[];
}

/** The payload and key bytes of records, which the coalescer's limits count (and hands to `send`). */
function recordBytes(records: readonly AppendRecordInit[]): number {
  let bytes = 0;
  for (const record of records) bytes += record.payload.byteLength + (record.key?.byteLength ?? 0);
  return bytes;
}

/**
 * Gathers concurrent appends to the same partition owner into one Append RPC. A lane (one
 * broker, partition, epoch and acks mode) has at most one Append in flight: a caller that finds
 * the lane idle is sent at the end of the event loop's current I/O phase (setImmediate, no timer),
 * together with every caller read in the same burst; callers that arrive while an Append is in
 * flight queue up and go out together as the next one, in arrival order, and each gets its own
 * slice of the offsets back. Under load (REST, one message per request, or many small client
 * batches) the broker sees a few large Appends instead of one per request: the cost of an RPC
 * (~0.25 ms of CPU on each side here) is shared, and so is the broker's fsync.
 *
 * A combined Append that fails fails every caller in it with the same error (each caller's own
 * retry logic then decides), except for refusals that wrote nothing (bad input), after which
 * each caller's records are sent again alone and get their own answer.
 */
export class AppendCoalescer {
  private readonly lanes = new Map<string, Lane>();
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly onWaited: ((waitedMs: number) => void) | undefined;

  constructor(options: AppendCoalescerOptions = {}) {
    this.maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.onWaited = options.onWaited;
  }

  /** Whether callers wait in `lane` for its Append in flight to come back. */
  hasWaiting(lane: string): boolean {
    return (this.lanes.get(lane)?.queue.length ?? 0) > 0;
  }

  /** Lanes with an Append in flight or callers waiting (for tests and metrics). */
  get activeLanes(): number {
    return this.lanes.size;
  }

  append(lane: string, records: AppendRecordInit[], deadline: number, send: SendAppend): Promise<CoalescedAnswer> {
    return new Promise<CoalescedAnswer>((resolve, reject) => {
      let state = this.lanes.get(lane);
      if (!state) this.lanes.set(lane, (state = { inFlight: false, queue: [] }));
      state.queue.push({ records, bytes: recordBytes(records), deadline, queuedAt: performance.now(), send, resolve, reject });
      if (!state.inFlight) {
        // Reserve the lane and send after this I/O phase, so the requests read in the same burst go together.
        state.inFlight = true;
        const reserved = state;
        setImmediate(() => this.sendNext(lane, reserved));
      }
    });
  }

  private sendNext(lane: string, state: Lane): void {
    if (state.queue.length === 0) {
      this.lanes.delete(lane);
      return;
    }
    const group = this.takeGroup(state);
    if (this.onWaited) {
      const now = performance.now();
      for (const waiter of group) this.onWaited(now - waiter.queuedAt);
    }
    state.inFlight = true;
    void this.sendGroup(group).finally(() => {
      state.inFlight = false;
      this.sendNext(lane, state);
    });
  }

  /** The oldest waiters that fit the limits (always at least one). */
  private takeGroup(state: Lane): Waiter[] {
    let records = 0;
    let bytes = 0;
    let count = 0;
    for (const waiter of state.queue) {
      if (count > 0 && (records + waiter.records.length > this.maxRecords || bytes + waiter.bytes > this.maxBytes)) break;
      records += waiter.records.length;
      bytes += waiter.bytes;
      count++;
    }
    return state.queue.splice(0, count);
  }

  /** Sends the group as one Append and settles every waiter in it. Never rejects. */
  private async sendGroup(group: Waiter[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group as [Waiter];
      await only.send(only.records, only.deadline, only.bytes).then(only.resolve, only.reject);
      return;
    }
    const records = group.flatMap((waiter) => waiter.records);
    const deadline = Math.max(...group.map((waiter) => waiter.deadline));
    const bytes = group.reduce((sum, waiter) => sum + waiter.bytes, 0);
    let answer: CoalescedAnswer;
    try {
      answer = await group[0]!.send(records, deadline, bytes);
      if (answer.offsets.length !== records.length) {
        throw new PartqError('INTERNAL', `the broker answered ${answer.offsets.length} offsets for ${records.length} records`);
      }
    } catch (error) {
      if (REFUSED_BEFORE_WRITING.has(fromConnectError(error).code)) {
        await Promise.all(group.map((waiter) => waiter.send(waiter.records, waiter.deadline, waiter.bytes).then(waiter.resolve, waiter.reject)));
      } else {
        for (const waiter of group) waiter.reject(error);
      }
      return;
    }
    let at = 0;
    for (const waiter of group) {
      const end = at + waiter.records.length;
      waiter.resolve({ offsets: answer.offsets.slice(at, end), duplicates: answer.duplicates.slice(at, end) });
      at = end;
    }
  }
}
