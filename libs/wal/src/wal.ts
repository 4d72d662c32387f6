import { writeSync } from 'node:fs';
import { types } from 'node:util';
import type { FileHandle } from 'node:fs/promises';
import { FRAME_HEADER_BYTES, frameBytesFor, MAX_RECORD_BYTES, sealFrame } from './frame.js';
import { fsyncDirectory } from './fs-sync.js';
import { preallocationEnd, writeZeros } from './preallocation.js';
import { ReadGate } from './read-gate.js';
import { bytesSource, type RecordSource } from './record-source.js';
import { recoverSegments, type RecoveryReport } from './recover-segments.js';
import { Segment } from './segment.js';
import { TailCache } from './tail-cache.js';
import { WalError } from './wal-error.js';

export interface WalLogger {
  warn(obj: object, msg: string): void;
}

export interface WalOptions {
  /** Directory of the segment files; created if missing. One Wal per directory at a time. */
  dir: string;
  /** First offset when the directory holds no log yet (default 0); an existing log keeps its offsets. */
  baseOffset?: number;
  /** A new segment file is started before a record would take the active one past this size (default 64 MiB). */
  segmentBytes?: number;
  /** fdatasync before acknowledging (default true); false only for tests and benchmarks. */
  fsync?: boolean;
  /** Budget of the in-memory cache of the most recent records (default 8 MiB; 0 disables it). */
  cacheBytes?: number;
  /** pino-compatible; told about recovery cuts and write failures. */
  logger?: WalLogger;
  /** Told how long each group commit's fdatasync took and how many records it made durable (metrics). */
  onSync?: (seconds: number, records: number) => void;
}

export interface WalRecord {
  offset: number;
  data: Uint8Array;
}

/** Offsets given to the records of one append, `lastOffset` inclusive. */
export interface AppendResult {
  firstOffset: number;
  lastOffset: number;
}

/** Counters for tests and metrics. */
export interface WalStats {
  /** append() calls acknowledged. */
  appends: number;
  /** Records acknowledged. */
  records: number;
  /** fdatasync calls on segment files (directory syncs are not counted). */
  fsyncs: number;
  /** Frame bytes written. */
  bytes: number;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_CACHE_BYTES = 8 * 1024 * 1024;
/** A group commit takes queued appends until their frames reach this size (always at least one append). */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Frames are copied into write buffers of at most this size (or one frame, if larger). */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
/** readAll() fetches this much per step. */
const READ_ALL_RECORDS = 1024;
const READ_ALL_BYTES = 4 * 1024 * 1024;

interface PendingAppend {
  readonly kind: 'append';
  readonly records: RecordSource;
  readonly frameBytes: number;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

export interface TrimOptions {
  /**
   * Runs once the segments to delete are known, before the first is deleted, with the log's start
   * offset after the trim: what must outlive the records (a summary of them) is saved here. A throw
   * fails the trim with TRIM_ABORTED and deletes nothing; the log stays writable.
   */
  beforeDelete?: (newStartOffset: number) => Promise<void>;
  /**
   * Bytes of the newest records to keep whatever `offset` says, as far as whole segments allow: a
   * segment goes only while the ones after it still hold this much. 0 (the default) lets every
   * segment below `offset` go; trimming to the end then starts a fresh segment so that all can.
   */
  keepBytes?: number;
  /**
   * With `keepBytes` 0 and `offset` at the end: start that fresh segment only once the one being
   * written holds at least this many bytes (default 0: always). Starting a segment costs a file
   * creation and two directory syncs, and deleting the old one another: a log trimmed after every
   * few records (one acks=all record at a time) would pay them for each, to free a few kilobytes.
   */
  minRollBytes?: number;
}

/** trimBefore / truncateFrom / reset / close: run alone, in call order with the appends around them. */
interface MaintenanceOperation {
  readonly kind: 'maintenance';
  run(): Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/** A frame written to the active segment and not yet fsync'd. */
interface UnsyncedFrame {
  offset: number;
  position: number;
  frameBytes: number;
  data: Uint8Array;
}

interface ResolvedOptions {
  dir: string;
  segmentBytes: number;
  fsync: boolean;
  cacheBytes: number;
  logger: WalLogger | undefined;
  onSync: ((seconds: number, records: number) => void) | undefined;
}

/**
 * Segmented append-only write-ahead log. Offsets are dense and start at `baseOffset`; every acknowledged
 * record has been fsync'd. Appends, trims, truncations, resets and close run one after another in call order
 * on a single writer; concurrent appends that queue up while a write + fsync is in flight share the next one
 * (group commit). Reads run concurrently and only ever see fsync'd records.
 */
export class Wal {
  readonly recovery: RecoveryReport;
  readonly stats: Readonly<WalStats>;

  private readonly counters: WalStats = { appends: 0, records: 0, fsyncs: 0, bytes: 0 };
  private readonly queue: (PendingAppend | MaintenanceOperation)[] = [];
  private readonly gate = new ReadGate();
  private readonly cache: TailCache;
  private durableEnd: number;
  private draining = false;
  private closing = false;
  private closed: Promise<void> | undefined;
  private failure: WalError | undefined;

  private constructor(
    private readonly options: ResolvedOptions,
    private segments: Segment[],
    recovery: RecoveryReport,
  ) {
    this.recovery = recovery;
    this.stats = this.counters;
    this.durableEnd = this.active.endOffset;
    this.cache = new TailCache(options.cacheBytes, this.durableEnd);
  }

  /** Opens (creating if needed) the log in `options.dir`, recovering it to its last whole, valid record. */
  static async open(options: WalOptions): Promise<Wal> {
    const resolved = resolveOptions(options);
    const { segments, report } = await recoverSegments({
      dir: resolved.dir,
      baseOffset: options.baseOffset ?? 0,
      fsync: resolved.fsync,
      logger: resolved.logger,
    });
    const wal = new Wal(resolved, segments, report);
    await wal.active.writableFile();
    return wal;
  }

  /** First offset still held (moves forward with trimBefore, to a segment boundary). */
  get startOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  /** First offset of the segment being written: trimBefore up to it removes whole older segments and never starts a new one. */
  get activeSegmentStart(): number {
    return this.active.baseOffset;
  }

  /**
   * Next offset to be written, which is also the durable end: an append's records count only once fsync'd.
   * Offsets of appends still in flight lie at and beyond it.
   */
  get endOffset(): number {
    return this.durableEnd;
  }

  /**
   * Appends the records as consecutive offsets and resolves once they are fsync'd. Offsets follow call order.
   * The records are copied (or, from a RecordSource, written) when the batch is written: do not modify
   * what they are made of until the promise settles.
   * A rejected append may have been partly persisted (a write failure mid-batch); after a write failure
   * every later append is refused with WRITE_FAILED until the log is reopened.
   */
  async append(records: readonly Uint8Array[] | RecordSource): Promise<AppendResult> {
    this.assertWritable();
    const source = Array.isArray(records) ? checkedBytes(records) : checkedSource(records as RecordSource);
    let frameBytes = 0;
    for (let i = 0; i < source.count; i++) {
      const bytes = source.byteLength(i);
      if (bytes > MAX_RECORD_BYTES) throw new WalError('RECORD_TOO_LARGE', `record of ${bytes} bytes exceeds ${MAX_RECORD_BYTES}`);
      frameBytes += frameBytesFor(bytes);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.enqueue({ kind: 'append', records: source, frameBytes, resolve, reject });
    });
  }

  /**
   * Up to `maxRecords` records from `fromOffset` on, stopping before the payloads would pass `maxBytes`
   * (but always at least one record when one exists, so an oversized record cannot stall a reader).
   * [] at the end of the log. The returned payloads are shared: treat them as read-only.
   */
  async read(fromOffset: number, maxRecords: number, maxBytes = Number.POSITIVE_INFINITY): Promise<WalRecord[]> {
    this.assertOpen();
    assertOffset(fromOffset, 'fromOffset');
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 0) {
      throw new WalError('INVALID_ARGUMENT', `maxRecords must be a non-negative integer, got ${maxRecords}`);
    }
    if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes <= 0) {
      throw new WalError('INVALID_ARGUMENT', `maxBytes must be a positive number, got ${maxBytes}`);
    }
    await this.gate.enterRead();
    try {
      this.assertOpen();
      this.assertInRange(fromOffset);
      return await this.collect(fromOffset, maxRecords, maxBytes);
    } finally {
      this.gate.exitRead();
    }
  }

  /** Every record from startOffset to the end, in order (replay on restart). */
  async *readAll(): AsyncGenerator<WalRecord, void, undefined> {
    let cursor = this.startOffset;
    for (;;) {
      const records = await this.read(cursor, READ_ALL_RECORDS, READ_ALL_BYTES);
      if (records.length === 0) return;
      yield* records;
      cursor = records[records.length - 1]!.offset + 1;
    }
  }

  /**
   * Lets go of the records before `offset`: deletes the segments that lie entirely below it, so startOffset
   * becomes the first segment boundary at or below `offset`. Trimming to endOffset leaves an empty log that
   * keeps its offsets across restarts.
   */
  async trimBefore(offset: number, options: TrimOptions = {}): Promise<void> {
    assertOffset(offset, 'offset');
    return this.maintain(() => this.trimSegments(offset, options));
  }

  /** Drops every record at `offset` and beyond; endOffset becomes `offset` and the next append lands there. */
  async truncateFrom(offset: number): Promise<void> {
    assertOffset(offset, 'offset');
    return this.maintain(() => this.truncateSegments(offset));
  }

  /** Deletes every record and restarts the log, empty, at `baseOffset`. */
  async reset(baseOffset: number): Promise<void> {
    assertOffset(baseOffset, 'baseOffset');
    return this.maintain(() => this.resetSegments(baseOffset));
  }

  /** Waits for the operations already queued, then closes the files. Calling it again returns the same promise. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    this.closed = new Promise<void>((resolve, reject) => {
      this.enqueue({
        kind: 'maintenance',
        run: async () => {
          // A failed log's zeros stay for recovery to cut: its files are not to be trusted now.
          if (!this.failure) await this.active.dropPrepared();
          for (const segment of this.segments) await segment.close();
        },
        resolve,
        reject,
      });
    });
    return this.closed;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private maintain(run: () => Promise<void>): Promise<void> {
    this.assertWritable();
    return new Promise<void>((resolve, reject) => this.enqueue({ kind: 'maintenance', run, resolve, reject }));
  }

  private enqueue(operation: PendingAppend | MaintenanceOperation): void {
    this.queue.push(operation);
    if (this.draining) return;
    this.draining = true;
    // Start on a microtask so appends issued together in one tick share the first write as well.
    queueMicrotask(() => void this.drain());
  }

  /** The single writer: runs queued operations in call order, batching consecutive appends. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.kind === 'maintenance') {
          this.queue.shift();
          await this.runMaintenance(head);
          continue;
        }
        const batch = this.takeAppendBatch();
        if (this.failure) {
          for (const pending of batch) pending.reject(this.failure);
          continue;
        }
        await this.writeBatch(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runMaintenance(operation: MaintenanceOperation): Promise<void> {
    try {
      await this.gate.exclusive(() => operation.run());
      operation.resolve();
    } catch (error) {
      // An I/O error may have left files and memory apart: refuse further writes until reopened.
      if (!(error instanceof WalError) && !this.closing) this.fail(error);
      operation.reject(error);
    }
  }

  private takeAppendBatch(): PendingAppend[] {
    let count = 0;
    let bytes = 0;
    for (const operation of this.queue) {
      if (operation.kind !== 'append' || (count > 0 && bytes + operation.frameBytes > MAX_BATCH_BYTES)) break;
      bytes += operation.frameBytes;
      count++;
    }
    return this.queue.splice(0, count) as PendingAppend[];
  }

  /** Writes the batch's frames (rolling segments as needed), fsyncs, publishes them, then acknowledges. */
  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    const results: AppendResult[] = [];
    try {
      let remainingBytes = batch.reduce((sum, pending) => sum + pending.frameBytes, 0);
      let segment = this.active;
      let file = await segment.writableFile();
      let writePosition = segment.size;
      let offset = this.durableEnd;
      let buffer: Buffer | undefined;
      let bufferUsed = 0;
      let bufferPosition = 0;
      let unsynced: UnsyncedFrame[] = [];

      const writeBuffer = async (): Promise<void> => {
        if (buffer && bufferUsed > 0) {
          writeFully(file, buffer, bufferUsed, bufferPosition);
          this.counters.bytes += bufferUsed;
        }
        buffer = undefined;
        bufferUsed = 0;
      };
      const syncAndPublish = async (): Promise<void> => {
        await writeBuffer();
        if (unsynced.length === 0) return;
        if (this.options.fsync) {
          this.prepareAhead(segment, file, writePosition, writePosition - unsynced[0]!.position);
          const started = process.hrtime.bigint();
          await file.datasync();
          this.counters.fsyncs++;
          this.options.onSync?.(Number(process.hrtime.bigint() - started) / 1e9, unsynced.length);
        }
        this.publish(segment, unsynced);
        unsynced = [];
      };

      for (const pending of batch) {
        const firstOffset = offset;
        const { records } = pending;
        for (let i = 0; i < records.count; i++) {
          const recordBytes = records.byteLength(i);
          const frameBytes = frameBytesFor(recordBytes);
          if (writePosition > 0 && writePosition + frameBytes > this.options.segmentBytes) {
            await syncAndPublish();
            segment = await this.roll(offset);
            file = await segment.writableFile();
            writePosition = 0;
          }
          if (!buffer || bufferUsed + frameBytes > buffer.length) {
            await writeBuffer();
            // Not from Node's shared pool: the cache keeps views of this buffer, and a small group
            // commit's view would hold a whole 8 KiB pool slab that the cache's budget never counted.
            buffer = Buffer.allocUnsafeSlow(Math.max(frameBytes, Math.min(WRITE_BUFFER_BYTES, remainingBytes)));
            bufferPosition = writePosition;
          }
          const at = bufferUsed;
          records.writeTo(i, buffer, at + FRAME_HEADER_BYTES);
          sealFrame(buffer, at, offset, recordBytes);
          // The cache keeps a view of our buffer, never the caller's.
          const data = buffer.subarray(at + FRAME_HEADER_BYTES, at + frameBytes);
          unsynced.push({ offset, position: writePosition, frameBytes, data });
          bufferUsed += frameBytes;
          writePosition += frameBytes;
          remainingBytes -= frameBytes;
          offset++;
        }
        results.push({ firstOffset, lastOffset: offset - 1 });
      }
      await syncAndPublish();
    } catch (cause) {
      const failure = this.fail(cause);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    this.counters.appends += batch.length;
    batch.forEach((pending, i) => pending.resolve(results[i]!));
  }

  /**
   * Writes zeros ahead of a commit of `commitBytes` ending at `dataEnd`, when preallocation.ts says
   * so, before its fdatasync: that sync pays the journal for the file's growth once, and the commits
   * after it overwrite. Best effort: zeros that cannot be written (a full disk) only mean none.
   */
  private prepareAhead(segment: Segment, file: FileHandle, dataEnd: number, commitBytes: number): void {
    const from = Math.max(dataEnd, segment.preparedEnd);
    const end = preallocationEnd(dataEnd, segment.preparedEnd, commitBytes, this.options.segmentBytes);
    if (end <= from) return;
    try {
      writeZeros(file, from, end);
      segment.preparedEnd = end;
    } catch {
      // The records are written; only their next commits' speed is lost.
    }
  }

  private fail(cause: unknown): WalError {
    this.failure ??= new WalError(
      'WRITE_FAILED',
      `wal ${this.options.dir}: write failed (${errorMessage(cause)}); reopen the log to recover`,
      { cause },
    );
    this.options.logger?.warn({ dir: this.options.dir, err: cause }, 'wal: write failed, refusing further writes');
    return this.failure;
  }

  /** Makes fsync'd frames visible to reads: segment bounds, index, cache, durable end. */
  private publish(segment: Segment, frames: UnsyncedFrame[]): void {
    for (const frame of frames) {
      segment.noteDurableFrame(frame.offset, frame.position, frame.frameBytes);
      this.cache.append(frame.offset, frame.data);
    }
    this.durableEnd = frames[frames.length - 1]!.offset + 1;
    this.counters.records += frames.length;
  }

  /** Starts a new active segment at `baseOffset`; the previous one is complete and fsync'd. */
  private async roll(baseOffset: number): Promise<Segment> {
    const previous = this.active;
    const segment = await Segment.create(this.options.dir, baseOffset);
    this.segments.push(segment);
    await this.syncDirectory();
    await previous.dropPrepared();
    await previous.close();
    return segment;
  }

  private async trimSegments(offset: number, options: TrimOptions): Promise<void> {
    this.assertHealthy();
    if (offset > this.durableEnd) {
      throw new WalError('OFFSET_OUT_OF_RANGE', `cannot trim before ${offset}: the log ends at ${this.durableEnd}`);
    }
    if (offset <= this.startOffset) return;
    const keepBytes = options.keepBytes ?? 0;
    // Everything goes: start an empty segment at the end so the offsets survive a restart.
    const rollToTrim = keepBytes === 0 && offset === this.durableEnd && this.active.records > 0 && this.active.size >= (options.minRollBytes ?? 0);
    if (rollToTrim) await this.roll(this.durableEnd);
    let removable = 0;
    let kept = this.segments.reduce((bytes, segment) => bytes + segment.size, 0);
    while (
      removable < this.segments.length - 1 &&
      this.segments[removable + 1]!.baseOffset <= offset &&
      kept - this.segments[removable]!.size >= keepBytes
    ) {
      kept -= this.segments[removable]!.size;
      removable++;
    }
    if (removable === 0) return;
    if (options.beforeDelete) {
      try {
        await options.beforeDelete(this.segments[removable]!.baseOffset);
      } catch (error) {
        throw new WalError('TRIM_ABORTED', `wal ${this.options.dir}: trim before ${offset} aborted (${errorMessage(error)})`, { cause: error });
      }
    }
    // Oldest first: a crash part-way leaves a gap-free suffix of the log.
    for (const segment of this.segments.slice(0, removable)) await segment.delete();
    this.segments.splice(0, removable);
    await this.syncDirectory();
    this.cache.dropBefore(this.startOffset);
  }

  private async truncateSegments(offset: number): Promise<void> {
    this.assertHealthy();
    this.assertInRange(offset);
    if (offset === this.durableEnd) return;
    let index = this.segmentIndexFor(offset);
    if (index > 0 && this.segments[index]!.baseOffset === offset) index--;
    const kept = this.segments[index]!;
    // Cut the containing segment first: should we crash before the later files are gone, recovery finds
    // their first offset no longer follows and deletes them.
    if (kept.endOffset > offset) {
      await kept.truncateFrom(offset);
      const file = await kept.writableFile();
      if (this.options.fsync) {
        await file.datasync();
        this.counters.fsyncs++;
      }
    }
    const dropped = this.segments.splice(index + 1);
    for (const segment of dropped.reverse()) await segment.delete();
    if (dropped.length > 0) await this.syncDirectory();
    await kept.writableFile();
    this.cache.truncateFrom(offset);
    this.durableEnd = offset;
  }

  private async resetSegments(baseOffset: number): Promise<void> {
    this.assertHealthy();
    for (const segment of [...this.segments].reverse()) await segment.delete();
    this.segments = [];
    this.segments.push(await Segment.create(this.options.dir, baseOffset));
    await this.syncDirectory();
    this.cache.reset(baseOffset);
    this.durableEnd = baseOffset;
  }

  /** Gathers records from the segments, then from the tail cache once the cursor reaches it. */
  private async collect(fromOffset: number, maxRecords: number, maxBytes: number): Promise<WalRecord[]> {
    const end = this.durableEnd;
    const records: WalRecord[] = [];
    let bytes = 0;
    let full = false;
    const take = (offset: number, data: Uint8Array): boolean => {
      if (records.length >= maxRecords || (records.length > 0 && bytes + data.byteLength > maxBytes)) {
        full = true;
        return false;
      }
      records.push({ offset, data });
      bytes += data.byteLength;
      return true;
    };
    let cursor = fromOffset;
    while (cursor < end && !full && records.length < maxRecords) {
      if (cursor >= this.cache.startOffset) {
        const stop = Math.min(end, this.cache.endOffset);
        while (cursor < stop && take(cursor, this.cache.get(cursor)!)) cursor++;
        break;
      }
      const segment = this.segments[this.segmentIndexFor(cursor)]!;
      const until = Math.min(end, cursor + maxRecords - records.length);
      const next = await segment.read(cursor, until, take);
      if (next === cursor && !full && cursor < until) {
        throw new WalError('CORRUPT', `wal ${this.options.dir}: no record ${cursor} in ${segment.path}`);
      }
      cursor = next;
    }
    return records;
  }

  /** Index of the segment whose range holds `offset` (the last one with baseOffset <= offset). */
  private segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.segments[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  private async syncDirectory(): Promise<void> {
    if (this.options.fsync) await fsyncDirectory(this.options.dir);
  }

  private assertOpen(): void {
    if (this.closing) throw new WalError('CLOSED', `wal ${this.options.dir} is closed`);
  }

  private assertHealthy(): void {
    if (this.failure) throw this.failure;
  }

  private assertWritable(): void {
    this.assertOpen();
    this.assertHealthy();
  }

  private assertInRange(offset: number): void {
    if (offset < this.startOffset || offset > this.durableEnd) {
      throw new WalError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} is outside the log [${this.startOffset}, ${this.durableEnd}]`,
      );
    }
  }
}

function resolveOptions(options: WalOptions): ResolvedOptions {
  if (!options || typeof options.dir !== 'string' || options.dir.length === 0) {
    throw new WalError('INVALID_ARGUMENT', 'WalOptions.dir must be a non-empty path');
  }
  if (options.baseOffset !== undefined) assertOffset(options.baseOffset, 'baseOffset');
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) {
    throw new WalError('INVALID_ARGUMENT', `segmentBytes must be a positive integer, got ${segmentBytes}`);
  }
  const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
    throw new WalError('INVALID_ARGUMENT', `cacheBytes must be a non-negative integer, got ${cacheBytes}`);
  }
  return { dir: options.dir, segmentBytes, fsync: options.fsync ?? true, cacheBytes, logger: options.logger, onSync: options.onSync };
}

function assertOffset(offset: number, name: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new WalError('INVALID_ARGUMENT', `${name} must be a non-negative safe integer, got ${offset}`);
  }
}

/**
 * Writes into the page cache on this thread: a copy that takes microseconds, where a write through
 * the thread pool costs a thread's wake-up and the loop's wake-up after it (~60 us of CPU per batch
 * measured here, most of an idle broker's append). The fdatasync that follows stays asynchronous:
 * it is what takes the disk's time.
 */
function writeFully(file: FileHandle, buffer: Buffer, length: number, position: number): void {
  let written = 0;
  while (written < length) written += writeSync(file.fd, buffer, written, length - written, position + written);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Plain records, checked: Uint8Arrays, at least one, copied into a source so later changes to the array do not count. */
function checkedBytes(records: readonly Uint8Array[]): RecordSource {
  if (records.length === 0) throw new WalError('INVALID_ARGUMENT', 'append() needs a non-empty array of Uint8Array records');
  for (const record of records) {
    // Realm-safe (jest runs tests in a realm of their own; node:fs Buffers come from another) and
    // ~20x cheaper than Object.prototype.toString: it runs for every record.
    if (!types.isUint8Array(record)) throw new WalError('INVALID_ARGUMENT', 'records must be Uint8Array instances');
  }
  return bytesSource(records.slice());
}

function checkedSource(source: RecordSource): RecordSource {
  const valid =
    typeof source === 'object' &&
    source !== null &&
    Number.isSafeInteger(source.count) &&
    source.count > 0 &&
    typeof source.byteLength === 'function' &&
    typeof source.writeTo === 'function';
  if (!valid) throw new WalError('INVALID_ARGUMENT', 'append() needs a non-empty array of Uint8Array records or a RecordSource');
  for (let i = 0; i < source.count; i++) {
    const bytes = source.byteLength(i);
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new WalError('INVALID_ARGUMENT', `record ${i} has an invalid length ${bytes}`);
  }
  return source;
}
