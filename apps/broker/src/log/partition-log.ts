import { rm } from 'node:fs/promises';
import { decodeRecord, StoredRecords, type Record as LogRecord, type RecordFields } from '@partq/proto';
import type { SequenceRun } from '@partq/partition';
import { PartqError, type Logger } from '@partq/runtime';
import { isOutOfSpace, Wal, WalError, type WalRecord } from '@partq/wal';
import { CommitWaiters } from './commit-waiters.js';
import { readPartitionMeta, writePartitionMeta } from './partition-meta.js';
import { ProducerSequences, DEFAULT_SEQUENCE_WINDOW } from './producer-sequences.js';
import { readSequencesSnapshot, writeSequencesSnapshot } from './sequences-snapshot.js';
import { SequencesInBatch } from './sequences-in-batch.js';
import { ReadHolds } from './read-holds.js';

/** WAL settings shared by every partition of a broker. */
export interface PartitionLogSettings {
  segmentBytes: number;
  fsync: boolean;
  cacheBytes: number;
  /**
   * Bytes of committed records a partition keeps past their commit to PostgreSQL (whole segments),
   * so that consumers a little behind read them here rather than from the Central DB. 0: none.
   */
  retainBytes?: number;
  /**
   * Committed bytes the segment being written must hold before a commit starts a new one to let
   * them go (default: 1 MiB, at most a quarter of a segment). 0: at every commit that reaches the end.
   */
  trimRollBytes?: number;
  logger: Logger;
  /** Sequences remembered per producer for idempotent appends. */
  sequenceWindow?: number;
  /** Called with the log when its records became durable or readable, or an acks=all append started waiting (wakes long-polls). */
  onChange?: (log: PartitionLog) => void;
  /**
   * The producer sequences already committed below an offset (asked of the manager), so that after
   * taking a partition over, a retry of something the previous owner stored is still a duplicate.
   */
  committedSequences?: CommittedSequences;
  /** Told about every WAL group commit (fsync seconds, records made durable), for metrics. */
  onWalSync?: (seconds: number, records: number) => void;
  /** Told about every failed WAL write (a full disk, see StorageSpace). */
  onWriteFailed?: (error: unknown) => void;
}

export type CommittedSequences = (topicId: number, partitionId: number, belowOffset: number) => Promise<SequenceRun[]>;

/** Where a partition lives and which ownership it was last written under. */
export interface PartitionLogLocation {
  dir: string;
  topicId: number;
  partitionId: number;
}

/** What the manager says about the partition (a PartitionAssignment with offsets as numbers). */
export interface PartitionAssignmentInfo {
  epoch: number;
  startOffset: number;
  highWatermark: number;
  /** Being moved away: appends are refused while the manager syncs what is left. */
  fenced?: boolean;
}

export interface AppendOutcome {
  /** Offset of the first record written; the written records' offsets follow it in request order. */
  baseOffset: number;
  /** One per request record: the offset it got, or the original offset of a duplicate. */
  offsets: number[];
  duplicates: boolean[];
  /** Highest offset among `offsets` (an acks=all append waits until it is committed). */
  lastOffset: number;
  /** Records actually written (duplicates excluded). */
  written: number;
  /** The log's layout when the offsets were handed out: `acknowledge` ignores an outcome a truncation overtook. */
  layout: number;
}

/** See PartitionLogSettings.trimRollBytes. */
const DEFAULT_TRIM_ROLL_BYTES = 1024 * 1024;

/** How `adopt` changed the local log. */
export type AdoptOutcome = 'kept' | 'truncated' | 'reset' | 'ignored-stale-epoch';

/** A WAL append in flight: the offsets it writes, [first, end). */
interface PendingWrite {
  first: number;
  end: number;
  appended: Promise<unknown>;
  /** Settles with `appended`, never rejects. */
  settled: Promise<void>;
}

/** A record of the request resolved to where it lands. */
type Resolution =
  | { kind: 'written'; index: number }
  | { kind: 'duplicate'; offset: number; pending: Promise<unknown> | undefined };

const REBUILD_RECORDS = 4096;
const REBUILD_BYTES = 16 * 1024 * 1024;

/**
 * One partition's log on this broker: a WAL whose offsets are the partition's offsets, the epoch the
 * broker owns it at (`partition.json`), the idempotence index and the acks=all waiters.
 *
 * Offsets are handed out here, synchronously, before the WAL append is queued: the WAL keeps call order, so
 * the offset written inside each record equals its WAL offset, and concurrent requests still share one fsync.
 * Truncation, reset and WAL reopening run "exclusively": new appends wait, in-flight ones finish first.
 */
export class PartitionLog {
  readonly topicId: number;
  readonly partitionId: number;
  readonly dir: string;

  private currentEpoch: number;
  /** The epoch whose records the log holds: the current one once the change to it truncated the log (see `adopt`). */
  private settledEpoch: number;
  private wal: Wal;
  private nextOffset: number;
  private committedOffset = 0;
  /** Bumped by every truncation/reset: a read that straddles one must not be served as current. */
  private layoutGeneration = 0;
  private readonly sequences: ProducerSequences;
  /** Sequences remembered per producer; also how many records below the WAL's start a snapshot covers. */
  private readonly sequenceWindow: number;
  /** See PartitionLogSettings.trimRollBytes. */
  private readonly trimRollBytes: number;
  /** WAL appends not settled yet, oldest first: an in-flight duplicate finds the one writing its offset here. */
  private readonly writes: PendingWrite[] = [];
  private readonly waiters = new CommitWaiters();
  /** Durable records readers may not see until acknowledged or committed (see ReadHolds). */
  private readonly holds = new ReadHolds();
  /** Set while an exclusive operation is queued or running; appends wait for it. */
  private appendGate: Promise<void> | undefined;
  /** Set while the manager moves this partition to another broker. */
  private fenced = false;
  private exclusiveChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private walFailed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    location: PartitionLogLocation,
    private readonly settings: PartitionLogSettings,
    wal: Wal,
    epoch: number,
  ) {
    this.topicId = location.topicId;
    this.partitionId = location.partitionId;
    this.dir = location.dir;
    this.wal = wal;
    this.currentEpoch = epoch;
    this.settledEpoch = epoch;
    this.nextOffset = wal.endOffset;
    this.committedOffset = wal.startOffset;
    this.sequenceWindow = settings.sequenceWindow ?? DEFAULT_SEQUENCE_WINDOW;
    this.trimRollBytes = settings.trimRollBytes ?? Math.min(DEFAULT_TRIM_ROLL_BYTES, settings.segmentBytes / 4);
    this.sequences = new ProducerSequences(this.sequenceWindow);
  }

  /** A new partition: an empty WAL starting at `startOffset`, owned at `epoch`. */
  static async create(
    location: PartitionLogLocation,
    settings: PartitionLogSettings,
    assignment: PartitionAssignmentInfo,
  ): Promise<PartitionLog> {
    const start = Math.max(assignment.startOffset, assignment.highWatermark);
    const wal = await PartitionLog.openWal(location.dir, settings, start);
    try {
      // A directory left over without partition.json (crash during create) may hold another base offset.
      if (wal.startOffset !== start || wal.endOffset !== start) await wal.reset(start);
      await writePartitionMeta(location.dir, { topicId: location.topicId, partitionId: location.partitionId, epoch: assignment.epoch });
    } catch (error) {
      // A full disk, say: the WAL's files are closed here, not left to the garbage collector.
      await wal.close().catch(() => undefined);
      throw error;
    }
    const log = new PartitionLog(location, settings, wal, assignment.epoch);
    log.committedOffset = start;
    await log.learnCommittedSequences(start);
    return log;
  }

  /**
   * An existing partition directory after a restart: recovers the WAL, rebuilds the idempotence index.
   * A directory without partition.json (crash while it was being created) gets epoch 0, which no assignment
   * matches, so the next reconcile truncates it to the manager's start offset.
   */
  static async open(location: PartitionLogLocation, settings: PartitionLogSettings): Promise<PartitionLog> {
    const meta = await readPartitionMeta(location.dir);
    const wal = await PartitionLog.openWal(location.dir, settings, 0);
    const log = new PartitionLog(location, settings, wal, meta?.epoch ?? 0);
    await log.rebuildFromWal();
    return log;
  }

  private static openWal(dir: string, settings: PartitionLogSettings, baseOffset: number): Promise<Wal> {
    return Wal.open({
      dir,
      baseOffset,
      segmentBytes: settings.segmentBytes,
      fsync: settings.fsync,
      cacheBytes: settings.cacheBytes,
      logger: settings.logger,
      onSync: settings.onWalSync,
    });
  }

  get epoch(): number {
    return this.currentEpoch;
  }

  /**
   * Refuses a read under `epoch` (a reader's metadata) unless the log holds that epoch's records. A
   * broker hears of a new epoch after the manager committed it, and truncates its log after that:
   * until then it holds the previous epoch's records past the high watermark, which readers of the
   * new epoch must not take for the new owner's (a replica delivered them, then the records stored
   * at those offsets again, or skipped those). 0 is an older reader: not checked.
   */
  assertReadableUnder(epoch: number): void {
    if (epoch === 0 || epoch === this.settledEpoch) return;
    throw new PartqError('STALE_EPOCH', `partition ${this.name} is readable under epoch ${this.settledEpoch}, not ${epoch}`, {
      currentEpoch: this.settledEpoch,
    });
  }

  /** First offset still in the WAL. */
  get startOffset(): number {
    return this.wal.startOffset;
  }

  /** Durable end: the offset the next record will get once everything in flight is written. */
  get endOffset(): number {
    return this.wal.endOffset;
  }

  /**
   * Where readers (Fetch, Tail) stop: the durable end, short of records appended with acks=all that
   * the manager has not committed yet and of acks=broker ones not acknowledged yet.
   */
  get readableEnd(): number {
    return this.holds.readableEnd(this.wal.endOffset);
  }

  /** True when a reader at `offset` has to wait for records: at or past the readable end, not past the durable end. */
  waitsAt(offset: number): boolean {
    return offset >= this.readableEnd && offset <= this.wal.endOffset;
  }

  /** Highest high watermark the manager reported: offsets below it are committed in PostgreSQL. */
  get committed(): number {
    return this.committedOffset;
  }

  /** Whether the manager is moving this partition away (appends refused until it is handed over). */
  get movingAway(): boolean {
    return this.fenced;
  }

  /** acks=all appends waiting for the manager. */
  get commitWaiters(): number {
    return this.waiters.size;
  }

  get walFsyncs(): number {
    return this.wal.stats.fsyncs;
  }

  /**
   * Appends `records` (validated by the caller) under `epoch`. Duplicates (producer, sequence) get their
   * original offset; a sequence below the remembered window fails with OUT_OF_ORDER_SEQUENCE, and one
   * whose named predecessor is not stored with SEQUENCE_GAP, and then nothing of the batch is written. Resolves once every returned offset is durable. With `holdUntilCommitted`
   * (acks=all) readers see the records written only once the manager has committed them.
   */
  async append(epoch: number, records: readonly RecordFields[], timestampMs: number, holdUntilCommitted = false): Promise<AppendOutcome> {
    while (this.appendGate) await this.appendGate;
    this.assertOwnedAt(epoch);

    // From here to the WAL call nothing awaits, so offsets and the index stay consistent.
    const resolutions: Resolution[] = [];
    const fresh: RecordFields[] = [];
    const inBatch = new SequencesInBatch();
    for (const record of records) {
      if (record.sequence === undefined) {
        resolutions.push({ kind: 'written', index: fresh.push(record) - 1 });
        continue;
      }
      const sequence = Number(record.sequence);
      const earlier = inBatch.indexOf(record.producerId, sequence, fresh);
      if (earlier !== undefined) {
        resolutions.push({ kind: 'duplicate', offset: this.nextOffset + earlier, pending: undefined });
        continue;
      }
      const check = this.sequences.check(record.producerId, sequence);
      if (check.kind === 'too-old') {
        throw new PartqError(
          'OUT_OF_ORDER_SEQUENCE',
          `producer ${record.producerId}: sequence ${sequence} is below the remembered window (from ${check.lowestKnown})`,
          { producerId: record.producerId, sequence, lowestKnownSequence: check.lowestKnown, highestSequence: check.highest },
        );
      }
      if (check.kind === 'duplicate') {
        resolutions.push({ kind: 'duplicate', offset: check.offset, pending: this.writeOf(check.offset) });
        continue;
      }
      if (record.previousSequence !== undefined) this.assertPredecessorStored(record.producerId, sequence, Number(record.previousSequence), inBatch, fresh);
      const index = fresh.push(record) - 1;
      inBatch.add(record.producerId, sequence, index);
      resolutions.push({ kind: 'written', index });
    }

    const firstOffset = this.nextOffset;
    let write: Promise<unknown> | undefined;
    if (fresh.length > 0) {
      this.holds.hold(firstOffset, firstOffset + fresh.length, holdUntilCommitted ? 'committed' : 'acknowledged');
      write = this.write(fresh, firstOffset, timestampMs, holdUntilCommitted);
    }

    const offsets: number[] = [];
    const duplicates: boolean[] = [];
    const waitFor = new Set<Promise<unknown>>();
    if (write) waitFor.add(write);
    for (const resolution of resolutions) {
      if (resolution.kind === 'written') {
        offsets.push(firstOffset + resolution.index);
        duplicates.push(false);
      } else {
        offsets.push(resolution.offset);
        duplicates.push(true);
        if (resolution.pending) waitFor.add(resolution.pending);
      }
    }
    // An in-flight duplicate shares the fate of the append that is writing it.
    await Promise.all(waitFor);
    return {
      baseOffset: firstOffset,
      offsets,
      duplicates,
      lastOffset: offsets.reduce((a, b) => Math.max(a, b)),
      written: fresh.length,
      layout: this.layoutGeneration,
    };
  }

  /**
   * Ordered idempotence (Kafka's): a record that names its producer's previous sequence on this
   * partition is refused, and nothing of the append written, until that one is stored here, written
   * earlier in the same append, or below the remembered window (stored long ago). A producer that
   * knows the predecessor will never come (its batch failed, or was lost with a broker) sends the
   * record again without it.
   */
  private assertPredecessorStored(producerId: number, sequence: number, previous: number, inBatch: SequencesInBatch, fresh: readonly RecordFields[]): void {
    if (inBatch.indexOf(producerId, previous, fresh) !== undefined) return;
    if (this.sequences.check(producerId, previous).kind !== 'new') return;
    throw new PartqError('SEQUENCE_GAP', `producer ${producerId}: sequence ${sequence} follows ${previous}, which partition ${this.name} has not stored`, {
      producerId,
      sequence,
      previousSequence: previous,
      highestSequence: this.sequences.highestSequence(producerId) ?? null,
    });
  }

  /**
   * The append's acknowledgement is on its way to its producer: readers may see its records now (those
   * appended with acks=all still wait for the manager's commit). Until then they are held (see
   * ReadHolds); an append that is never acknowledged is released by the manager's commit.
   */
  acknowledge(outcome: AppendOutcome): void {
    if (this.closed || outcome.layout !== this.layoutGeneration) return;
    let moved = outcome.written > 0 && this.holds.acknowledge(outcome.baseOffset, outcome.baseOffset + outcome.written);
    // A retry of records whose first append went unacknowledged (refused after a stall) acknowledges
    // them. Most appends have no duplicate: skip the walk over their records.
    if (outcome.written < outcome.offsets.length) {
      outcome.duplicates.forEach((duplicate, index) => {
        const offset = outcome.offsets[index]!;
        if (duplicate && this.holds.acknowledge(offset, offset + 1)) moved = true;
      });
    }
    if (moved) this.settings.onChange?.(this);
  }

  /** Encodes and queues the WAL append; registers the sequences as being written. */
  private write(records: readonly RecordFields[], firstOffset: number, timestampMs: number, held: boolean): Promise<unknown> {
    // The hold is stored with the records, so that a restart still knows which ones wait for the manager.
    // Sized here (a bad sequence throws before anything is queued), written by the WAL into its own buffer.
    const stored = new StoredRecords(records, firstOffset, timestampMs, held);
    let appended: Promise<unknown>;
    try {
      appended = this.wal.append(stored).then((result) => {
        if (result.firstOffset !== firstOffset) {
          // Cannot happen while offsets are only handed out here; refuse to acknowledge if it ever does.
          this.markWalFailed();
          throw new PartqError('INTERNAL', `partition ${this.name}: WAL wrote ${result.firstOffset}, expected ${firstOffset}`);
        }
        this.settings.onChange?.(this);
      }, (error: unknown) => {
        this.markWalFailed(error);
        throw this.translateWalError(error);
      });
    } catch (error) {
      this.markWalFailed(error);
      throw this.translateWalError(error);
    }
    this.nextOffset += records.length;
    for (let i = 0; i < records.length; i++) {
      const { producerId, sequence } = records[i]!;
      if (sequence !== undefined) this.sequences.remember(producerId, Number(sequence), firstOffset + i, false, timestampMs);
    }
    const write: PendingWrite = {
      first: firstOffset,
      end: firstOffset + records.length,
      appended,
      settled: appended.then(
        () => undefined,
        () => undefined,
      ),
    };
    this.writes.push(write);
    void write.settled.then(() => this.writes.splice(this.writes.indexOf(write), 1));
    return appended;
  }

  /** The WAL append still writing `offset`, if it has not settled. */
  private writeOf(offset: number): Promise<unknown> | undefined {
    for (const write of this.writes) if (offset >= write.first && offset < write.end) return write.appended;
    return undefined;
  }

  /**
   * Records from `from` on, for readers: up to `readableEnd`. Throws OFFSET_OUT_OF_RANGE below the WAL
   * start (details.walStartOffset: read PostgreSQL instead) and beyond the durable end; [] from the
   * readable end on.
   */
  async read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    return (await this.readStored(from, maxRecords, maxBytes)).map((entry) => decodeRecord(entry.data));
  }

  /** As read(), the records as the WAL stores them (partq.v1.Record bytes, each with its offset), undecoded. */
  async readStored(from: number, maxRecords: number, maxBytes: number): Promise<WalRecord[]> {
    return this.readWal(from, Math.min(maxRecords, this.readableEnd - from), maxBytes);
  }

  /** Records from `from` on up to the durable end, held or not (the manager's sync reads them all). */
  private async readWal(from: number, maxRecords: number, maxBytes: number): Promise<WalRecord[]> {
    this.assertOpen();
    const start = this.wal.startOffset;
    const end = this.wal.endOffset;
    if (from < start) {
      throw new PartqError('OFFSET_OUT_OF_RANGE', `partition ${this.name}: offset ${from} is below the WAL start ${start}`, {
        walStartOffset: start,
        endOffset: end,
      });
    }
    if (from > end) {
      throw new PartqError('OFFSET_OUT_OF_RANGE', `partition ${this.name}: offset ${from} is beyond the end ${end}`, {
        walStartOffset: start,
        endOffset: end,
      });
    }
    if (from === end || maxRecords <= 0) return [];
    let entries;
    try {
      entries = await this.wal.read(from, maxRecords, maxBytes);
    } catch (error) {
      if (error instanceof WalError && error.code === 'OFFSET_OUT_OF_RANGE') {
        // Trimmed or truncated while this read waited: report the range as it is now.
        return this.readWal(from, maxRecords, maxBytes);
      }
      throw this.translateWalError(error);
    }
    return entries;
  }

  /**
   * Records for the manager's sync as stored (partq.v1.Record bytes, passed on undecoded), labelled with
   * the epoch they were written under. Never mixes epochs: waits out a truncation in progress and reads
   * again if one happened meanwhile.
   */
  async readForSync(from: number, maxRecords: number, maxBytes: number): Promise<{ epoch: number; records: Uint8Array[] }> {
    for (;;) {
      while (this.appendGate) await this.appendGate;
      this.assertOpen();
      const epoch = this.currentEpoch;
      const generation = this.layoutGeneration;
      const start = Math.max(from, this.wal.startOffset);
      let records: Uint8Array[] = [];
      if (start < this.wal.endOffset) {
        try {
          records = (await this.readWal(start, maxRecords, maxBytes)).map((entry) => entry.data);
        } catch (error) {
          // Trimmed meanwhile: go round again from the new start.
          if (error instanceof PartqError && error.code === 'OFFSET_OUT_OF_RANGE') continue;
          throw error;
        }
      }
      if (epoch === this.currentEpoch && generation === this.layoutGeneration) return { epoch, records };
    }
  }

  /** Records past `from` that the manager has not taken yet (from the WAL start when `from` is below it). */
  pendingSince(from: number): number {
    return Math.max(0, this.wal.endOffset - Math.max(from, this.wal.startOffset));
  }

  /** Resolves once the manager committed past `lastOffset`; UNAVAILABLE after `timeoutMs`. */
  waitCommitted(lastOffset: number, timeoutMs: number): Promise<void> {
    if (lastOffset < this.committedOffset) return Promise.resolve();
    const committed = this.waiters.wait(lastOffset, timeoutMs);
    this.settings.onChange?.(this);
    return committed;
  }

  /**
   * The manager committed every offset below `highWatermark` to PostgreSQL: releases acks=all waiters and
   * trims the WAL below it (to a segment boundary), but for the newest `retainBytes`. The segment being
   * written goes only once it holds `trimRollBytes`: a partition committed record by record (acks=all,
   * one at a time) would otherwise create and delete a file, with three directory syncs, per record.
   */
  async commit(highWatermark: number): Promise<void> {
    if (this.closed || highWatermark <= this.committedOffset) return;
    this.committedOffset = highWatermark;
    this.waiters.release(highWatermark);
    if (this.holds.release(highWatermark)) this.settings.onChange?.(this);
    const trimTo = Math.min(highWatermark, this.wal.endOffset);
    if (trimTo <= this.wal.startOffset || this.walFailed) return;
    try {
      // The sequences of the records about to go are saved first: a restart must still recognise their
      // retries. Those of the last window of records below the new start, as many as a broker taking
      // the partition over learns from PostgreSQL: older producers' would only make the file grow.
      const beforeDelete = (newStart: number) => writeSequencesSnapshot(this.dir, this.sequences.runsWithin(newStart - this.sequenceWindow, newStart));
      await this.wal.trimBefore(trimTo, { beforeDelete, keepBytes: this.settings.retainBytes ?? 0, minRollBytes: this.trimRollBytes });
    } catch (error) {
      // Trimming only frees disk space; a truncation or close that overtook it makes it moot.
      this.settings.logger.warn({ partition: this.name, trimTo, err: error }, 'broker: WAL trim skipped');
    }
  }

  /**
   * Applies the manager's assignment. Same epoch: keep every record (a restarted owner keeps its acks=broker
   * records beyond the high watermark). Newer epoch: the partition was owned elsewhere meanwhile, so records
   * from the start offset on are not ours to keep: truncate there (or reset when the WAL does not reach it),
   * then store the new epoch. An older epoch is a stale message and is ignored.
   */
  async adopt(assignment: PartitionAssignmentInfo): Promise<AdoptOutcome> {
    if (assignment.epoch < this.currentEpoch) return 'ignored-stale-epoch';
    const fence = assignment.fenced === true;
    if (fence !== this.fenced) {
      this.fenced = fence;
      // Once fenced, in-flight appends finish first, so the end offset the manager reads next is final.
      if (fence) {
        await this.exclusive(async () => undefined);
        // The manager's sync long-poll answers now (see UpdatesReadiness): the move waits for it.
        this.settings.onChange?.(this);
      }
    }
    if (assignment.epoch === this.currentEpoch) {
      if (this.wal.endOffset < assignment.highWatermark) {
        // The manager committed records this WAL no longer has (lost disk contents): continue after them
        // instead of handing out committed offsets again.
        this.settings.logger.warn(
          { partition: this.name, endOffset: this.wal.endOffset, highWatermark: assignment.highWatermark },
          'broker: local log ends below the committed high watermark; restarting it there',
        );
        await this.exclusive(async () => {
          await this.relocate(assignment.highWatermark, assignment.highWatermark, 'reset');
          // The lost contents took the producers' sequences with them: learn the committed ones again.
          await this.learnCommittedSequences(assignment.highWatermark);
        });
        return 'reset';
      }
      await this.commit(assignment.highWatermark);
      return 'kept';
    }
    // Fence at once: from now on appends under the old epoch fail, new-epoch ones wait for the truncation.
    const previousEpoch = this.currentEpoch;
    this.currentEpoch = assignment.epoch;
    return this.exclusive(async () => {
      const target = Math.max(assignment.startOffset, assignment.highWatermark);
      const reachable = target === assignment.startOffset && target >= this.wal.startOffset && target <= this.wal.endOffset;
      const outcome = reachable ? 'truncated' : 'reset';
      this.settings.logger.info(
        { partition: this.name, previousEpoch, epoch: assignment.epoch, target, endOffset: this.wal.endOffset, outcome },
        'broker: partition epoch changed',
      );
      this.waiters.release(assignment.highWatermark);
      this.waiters.failAll(
        new PartqError('STALE_EPOCH', `partition ${this.name} moved to epoch ${assignment.epoch}`, { currentEpoch: assignment.epoch }),
      );
      await this.relocate(target, assignment.highWatermark, outcome);
      this.settledEpoch = assignment.epoch;
      await this.learnCommittedSequences(this.wal.startOffset);
      // Only after the truncation: a crash in between must not leave the new epoch over old records.
      await writePartitionMeta(this.dir, { topicId: this.topicId, partitionId: this.partitionId, epoch: assignment.epoch });
      return outcome;
    });
  }

  /**
   * Remembers the sequences committed below `belowOffset` that this WAL does not hold, and saves them
   * where a restart finds them. Why at once: a restart rebuilds the index from the WAL and the
   * sequences snapshot, and the first trim that would save them may be a whole segment of appends
   * away. A broker SIGKILLed a few seconds after taking a partition over forgot them, and a producer's
   * retry of a record committed before the takeover was stored a second time (soak, seed 3705).
   */
  private async learnCommittedSequences(belowOffset: number): Promise<void> {
    if (!this.settings.committedSequences || belowOffset === 0) return;
    const runs = await this.settings.committedSequences(this.topicId, this.partitionId, belowOffset);
    if (runs.length === 0) return;
    for (const run of runs) this.sequences.rememberRun(run);
    await writeSequencesSnapshot(this.dir, this.sequences.runsWithin(belowOffset - this.sequenceWindow, belowOffset));
  }

  /** Cuts the WAL to end at `target` (or restarts it empty there) and rebuilds what depends on its contents. */
  private async relocate(target: number, highWatermark: number, how: 'truncated' | 'reset'): Promise<void> {
    if (how === 'truncated') await this.wal.truncateFrom(target);
    else await this.wal.reset(target);
    this.layoutGeneration++;
    this.nextOffset = this.wal.endOffset;
    this.committedOffset = Math.max(highWatermark, this.wal.startOffset);
    this.waiters.release(this.committedOffset);
    await this.rebuildFromWal();
  }

  /** After a failed write the WAL refuses appends until reopened; reopen it (recovery cuts any torn tail). */
  private markWalFailed(error?: unknown): void {
    if (error !== undefined) this.settings.onWriteFailed?.(error);
    if (this.walFailed) return;
    this.walFailed = true;
    void this.exclusive(async () => {
      if (this.closed) return;
      this.settings.logger.warn({ partition: this.name }, 'broker: WAL write failed; reopening the partition log');
      await this.wal.close().catch(() => undefined);
      this.wal = await PartitionLog.openWal(this.dir, this.settings, this.wal.startOffset);
      this.walFailed = false;
      this.layoutGeneration++;
      this.nextOffset = this.wal.endOffset;
      await this.rebuildFromWal();
    }).catch((error: unknown) => {
      this.settings.logger.error({ partition: this.name, err: error }, 'broker: reopening the partition log failed');
    });
  }

  /** Runs `work` with no append in flight and new appends held back; exclusive operations run one at a time. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusiveChain.then(async () => {
      await Promise.all(this.writes.map((write) => write.settled));
      return work();
    });
    this.exclusiveChain = run.catch(() => undefined);
    const gate = run.then(
      () => undefined,
      () => undefined,
    );
    this.appendGate = gate;
    void gate.then(() => {
      if (this.appendGate === gate) this.appendGate = undefined;
    });
    return run;
  }

  /**
   * Rebuilds what the WAL's contents decide: the idempotence index, and the read holds of acks=all
   * records not known to be committed (a restarted broker releases them once the manager reports its
   * high watermark).
   */
  private async rebuildFromWal(): Promise<void> {
    this.sequences.clear();
    this.holds.clear();
    await this.rememberSnapshot();
    let cursor = this.wal.startOffset;
    for (;;) {
      const entries = cursor >= this.wal.endOffset ? [] : await this.wal.read(cursor, REBUILD_RECORDS, REBUILD_BYTES);
      if (entries.length === 0) return;
      for (const entry of entries) {
        const record = decodeRecord(entry.data);
        // The record's own time, so a producer idle since before the restart still expires on time.
        if (record.sequence !== undefined) this.sequences.remember(record.producerId, Number(record.sequence), entry.offset, true, Number(record.timestampMs));
        if (record.heldUntilCommitted && entry.offset >= this.committedOffset) this.holds.hold(entry.offset, entry.offset + 1);
      }
      cursor = entries[entries.length - 1]!.offset + 1;
    }
  }

  /** Remembers the sequences saved when the WAL was last trimmed, of the records it no longer holds. */
  private async rememberSnapshot(): Promise<void> {
    let runs: SequenceRun[];
    try {
      runs = await readSequencesSnapshot(this.dir);
    } catch (error) {
      // Written atomically, so only a damaged disk gets here: serve on, knowing only what the WAL holds.
      this.settings.logger.error({ partition: this.name, err: error }, 'broker: unreadable sequences snapshot; retries of trimmed records may land again');
      return;
    }
    const below = this.wal.startOffset;
    for (const run of runs) {
      if (run.firstOffset >= below) continue;
      this.sequences.rememberRun({ ...run, count: Math.min(run.count, below - run.firstOffset) });
    }
  }

  /** Forgets the producers that appended nothing here since `usedBeforeMs` (see ProducerSequences.expireIdle). */
  expireIdleProducers(usedBeforeMs: number): number {
    return this.sequences.expireIdle(usedBeforeMs);
  }

  /** Producers whose recent sequences this partition remembers. */
  get producerCount(): number {
    return this.sequences.producerCount;
  }

  /** Stops taking appends, lets the in-flight ones finish, fails acks=all waiters, closes the WAL. */
  close(reason: PartqError = new PartqError('NOT_OWNER', `partition ${this.name} is closed on this broker`)): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.waiters.failAll(reason);
    this.closing = this.exclusive(() => this.wal.close());
    return this.closing;
  }

  /** close() and delete the directory: the partition belongs to another broker now. */
  async destroy(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Fails the acks=all waiters without closing (the broker is shutting down). */
  failWaiters(error: PartqError): void {
    this.waiters.failAll(error);
  }

  private get name(): string {
    return `${this.topicId}/${this.partitionId}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new PartqError('NOT_OWNER', `partition ${this.name} is not owned by this broker`);
  }

  private assertOwnedAt(epoch: number): void {
    this.assertOpen();
    if (this.currentEpoch === 0) {
      // Recovered without partition.json: not ours until the manager assigns it.
      throw new PartqError('NOT_OWNER', `partition ${this.name} is not assigned to this broker yet`);
    }
    if (this.fenced) {
      throw new PartqError('NOT_OWNER', `partition ${this.name} is moving to another broker`, { moving: true });
    }
    if (epoch !== this.currentEpoch) {
      throw new PartqError('STALE_EPOCH', `partition ${this.name} is at epoch ${this.currentEpoch}, not ${epoch}`, {
        currentEpoch: this.currentEpoch,
      });
    }
  }

  private translateWalError(error: unknown): unknown {
    if (!(error instanceof WalError)) return error;
    if (error.code === 'CLOSED') return new PartqError('NOT_OWNER', `partition ${this.name} is not owned by this broker`);
    if (error.code === 'WRITE_FAILED') {
      if (isOutOfSpace(error)) {
        return new PartqError('UNAVAILABLE', `partition ${this.name}: this broker's disk is full; the partition moves to another broker; retry`, {
          diskFull: true,
        });
      }
      return new PartqError('UNAVAILABLE', `partition ${this.name}: write failed; retry (the log is being reopened)`);
    }
    return error;
  }
}
