import { existsSync } from 'node:fs';
import { access, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PartitionMap, partitionKey } from '@partq/partition';
import { mapWithLimit, PartqError, type Logger } from '@partq/runtime';
import { ChangeSignal } from './change-signal.js';
import { PartitionLog, type CommittedSequences, type PartitionAssignmentInfo, type PartitionLogLocation, type PartitionLogSettings } from './partition-log.js';
import { parsePartitionDirName, partitionDirName } from './partition-meta.js';

/** Partitions a restart opens at once, before the broker serves anything: enough to overlap their reads and fsyncs. */
const OPENED_AT_ONCE = 8;

/**
 * Partitions a live broker creates at once. Creating one costs a few fsyncs and the manager's
 * answer; libuv's pool has four threads, which every partition's WAL fsyncs share, so one is
 * always left to them.
 */
const CREATED_AT_ONCE = 3;

export interface PartitionStoreOptions {
  /** The broker's data directory; partitions live in `<dataDir>/partitions/<topicId>-<partitionId>/`. */
  dataDir: string;
  segmentBytes: number;
  fsync: boolean;
  cacheBytes: number;
  /** See PartitionLogSettings.retainBytes. */
  retainBytes?: number;
  logger: Logger;
  sequenceWindow?: number;
  committedSequences?: CommittedSequences;
  onWalSync?: (seconds: number, records: number) => void;
  /** Told about every failed write of a partition's files (a full disk, see StorageSpace). */
  onWriteFailed?: (error: unknown) => void;
  /** A producer that appended nothing to a partition for this long is forgotten there (default: never). */
  producerExpiryMs?: number;
}

/** One partition of an assignment, offsets as numbers. */
export interface StoreAssignment extends PartitionAssignmentInfo {
  topicId: number;
  partitionId: number;
}

export interface PartitionEndOffset {
  topicId: number;
  partitionId: number;
  offset: number;
}

/** What a reconcile did, for logs and tests. */
export interface ReconcileReport {
  created: string[];
  kept: string[];
  truncated: string[];
  reset: string[];
  removed: string[];
  ignored: string[];
  failed: string[];
}

interface Entry {
  readonly log: PartitionLog;
  /** Reconcile round that last created it or changed its epoch. */
  changedAt: number;
}

/**
 * Every partition log of this broker, and the one place that applies the manager's assignments.
 * Reconciles run one at a time. `changes` fires whenever records become durable or an acks=all append
 * starts waiting, for the manager's long-poll.
 */
export class PartitionStore {
  readonly changes = new ChangeSignal<PartitionLog>();
  private readonly partitions = new PartitionMap<Entry>();
  private readonly partitionsDir: string;
  private readonly settings: PartitionLogSettings;
  private reconcileChain: Promise<unknown> = Promise.resolve();
  /**
   * The epoch each partition had when a complete assignment took it away. An assignment of it at that
   * epoch or an older one comes from before the move (a heartbeat answer computed earlier and applied
   * later) and must not bring it back: the broker would serve a partition that is now another's.
   */
  private readonly removedAtEpoch = new Map<string, number>();
  private round = 0;
  private closedFsyncs = 0;
  private closed = false;
  private expiredProducerCount = 0;
  private readonly expirySweep: NodeJS.Timeout | undefined;

  private constructor(private readonly options: PartitionStoreOptions) {
    this.partitionsDir = join(options.dataDir, 'partitions');
    this.settings = {
      segmentBytes: options.segmentBytes,
      fsync: options.fsync,
      cacheBytes: options.cacheBytes,
      ...(options.retainBytes === undefined ? {} : { retainBytes: options.retainBytes }),
      logger: options.logger,
      onChange: (log) => this.changes.notify(log),
      ...(options.sequenceWindow === undefined ? {} : { sequenceWindow: options.sequenceWindow }),
      ...(options.committedSequences === undefined ? {} : { committedSequences: options.committedSequences }),
      ...(options.onWalSync === undefined ? {} : { onWalSync: options.onWalSync }),
      ...(options.onWriteFailed === undefined ? {} : { onWriteFailed: options.onWriteFailed }),
    };
    const expiryMs = options.producerExpiryMs;
    if (expiryMs !== undefined) {
      // A producer may outlive its expiry by up to one sweep interval; a minute at most keeps sweeps rare.
      this.expirySweep = setInterval(() => this.expireIdleProducers(Date.now() - expiryMs), sweepIntervalFor(expiryMs));
      this.expirySweep.unref();
    }
  }

  /**
   * Opens every partition directory found under the data directory (recovery after a restart). They are
   * served at the epoch they were last owned at until the manager's first assignment says otherwise.
   */
  static async open(options: PartitionStoreOptions): Promise<PartitionStore> {
    const store = new PartitionStore(options);
    await mkdir(store.partitionsDir, { recursive: true });
    const found = (await readdir(store.partitionsDir))
      .sort()
      .map((name) => ({ name, id: parsePartitionDirName(name) }))
      .filter((entry): entry is { name: string; id: NonNullable<typeof entry.id> } => entry.id !== undefined);
    // Side by side, as a reconcile creates them: a restart's partitions are unavailable until all are open.
    const logs = await mapWithLimit(found, OPENED_AT_ONCE, async ({ name, id }) => {
      const log = await PartitionLog.open({ dir: join(store.partitionsDir, name), ...id }, store.settings);
      options.logger.info(
        { partition: partitionKey(id.topicId, id.partitionId), epoch: log.epoch, startOffset: log.startOffset, endOffset: log.endOffset },
        'broker: recovered partition',
      );
      return log;
    });
    for (const log of logs) store.partitions.set(log.topicId, log.partitionId, { log, changedAt: 0 });
    return store;
  }

  get size(): number {
    return this.partitions.size;
  }

  /**
   * Counts reconcile rounds. Take it before asking the manager for a complete assignment and pass it to
   * `reconcile`: partitions assigned by a newer round (an Assign that overtook the answer) are then kept.
   */
  get generation(): number {
    return this.round;
  }

  get(topicId: number, partitionId: number): PartitionLog | undefined {
    return this.partitions.get(topicId, partitionId)?.log;
  }

  /**
   * The log, or NOT_OWNER. `absent` in its details says that this broker holds no files of the
   * partition either (it never created it, or a creation failed and was undone), so it holds none
   * of its records: a move need not wait for them.
   */
  require(topicId: number, partitionId: number): PartitionLog {
    const log = this.get(topicId, partitionId);
    if (!log) {
      const absent = !existsSync(join(this.partitionsDir, partitionDirName(topicId, partitionId)));
      throw new PartqError('NOT_OWNER', `partition ${topicId}/${partitionId} is not owned by this broker`, { topicId, partitionId, absent });
    }
    return log;
  }

  /**
   * A new partition's directory and files. One that fails halfway (a full disk) is removed again:
   * nothing was ever appended to it, and what is left would be mistaken for a partition's records.
   */
  private async create(location: PartitionLogLocation, assignment: StoreAssignment): Promise<PartitionLog> {
    try {
      return await PartitionLog.create(location, this.settings, assignment);
    } catch (error) {
      await rm(location.dir, { recursive: true, force: true }).catch((cleanup: unknown) => {
        this.options.logger.warn({ dir: location.dir, err: cleanup }, 'broker: removing a partition that failed to be created failed');
      });
      throw error;
    }
  }

  logs(): PartitionLog[] {
    return [...this.partitions.values()].map((entry) => entry.log);
  }

  endOffsets(): PartitionEndOffset[] {
    return this.logs().map((log) => ({ topicId: log.topicId, partitionId: log.partitionId, offset: log.endOffset }));
  }

  /** Producers remembered across partitions (one per producer and partition it appended to). */
  get producerStates(): number {
    return this.logs().reduce((sum, log) => sum + log.producerCount, 0);
  }

  /** Producers forgotten by expiry since the broker started, for the metric. */
  get expiredProducers(): number {
    return this.expiredProducerCount;
  }

  /** Forgets, in every partition, the producers that appended nothing there since `usedBeforeMs`. */
  expireIdleProducers(usedBeforeMs: number): number {
    let expired = 0;
    for (const log of this.logs()) expired += log.expireIdleProducers(usedBeforeMs);
    this.expiredProducerCount += expired;
    if (expired > 0) this.options.logger.info({ expired, remaining: this.producerStates }, 'broker: forgot idle producers');
    return expired;
  }

  /** fsyncs of every WAL this store has had open, for the metric. */
  get walFsyncs(): number {
    return this.logs().reduce((sum, log) => sum + log.walFsyncs, this.closedFsyncs);
  }

  /**
   * Applies the manager's assignments: creates missing partitions, keeps or truncates existing ones by epoch
   * (see PartitionLog.adopt). With `complete`, partitions not listed are closed and their directories
   * removed, except those created or re-epoched by a reconcile newer than `basedOnGeneration`.
   * A partition that fails is dropped from service (NOT_OWNER) and reported; the next assignment retries it.
   */
  reconcile(assignments: readonly StoreAssignment[], complete: boolean, basedOnGeneration?: number): Promise<ReconcileReport> {
    const run = this.reconcileChain.then(() => {
      if (this.closed) throw new PartqError('UNAVAILABLE', 'the broker is shutting down');
      return this.applyAssignments(assignments, complete, basedOnGeneration);
    });
    this.reconcileChain = run.catch(() => undefined);
    return run;
  }

  private async applyAssignments(
    assignments: readonly StoreAssignment[],
    complete: boolean,
    basedOnGeneration: number | undefined,
  ): Promise<ReconcileReport> {
    const round = ++this.round;
    const report: ReconcileReport = { created: [], kept: [], truncated: [], reset: [], removed: [], ignored: [], failed: [] };
    const listed = new Set<string>();
    // A move hands a broker many partitions at once, creating each costs a few fsyncs and a query
    // (~25 ms on a busy VM), and their producers wait for the last. An assignment that names one
    // partition twice keeps its order.
    const byPartition = new Map<string, StoreAssignment[]>();
    for (const assignment of assignments) {
      const key = partitionKey(assignment.topicId, assignment.partitionId);
      listed.add(key);
      const same = byPartition.get(key);
      if (same) same.push(assignment);
      else byPartition.set(key, [assignment]);
    }
    const outcomes = new Map<string, (keyof ReconcileReport)[]>();
    const applyAll = async (key: string, same: StoreAssignment[]): Promise<void> => {
      const applied: (keyof ReconcileReport)[] = [];
      for (const assignment of same) applied.push(await this.applyAssignment(key, assignment, round));
      outcomes.set(key, applied);
    };
    // Partitions held already go one after another, as every heartbeat's complete assignment does
    // (kept ones cost next to nothing; a commit may trim, and trims side by side took the WAL
    // fsyncs' threads); new ones are created side by side.
    const fresh: [string, StoreAssignment[]][] = [];
    for (const [key, same] of byPartition) {
      if (this.partitions.get(same[0]!.topicId, same[0]!.partitionId)) await applyAll(key, same);
      else fresh.push([key, same]);
    }
    await mapWithLimit(fresh, CREATED_AT_ONCE, ([key, same]) => applyAll(key, same));
    for (const key of byPartition.keys()) for (const outcome of outcomes.get(key)!) report[outcome].push(key);
    if (complete) {
      for (const entry of [...this.partitions.values()]) {
        const key = partitionKey(entry.log.topicId, entry.log.partitionId);
        if (listed.has(key)) continue;
        if (basedOnGeneration !== undefined && entry.changedAt > basedOnGeneration) continue;
        this.removedAtEpoch.set(key, entry.log.epoch);
        await this.dropEntry(entry.log.topicId, entry.log.partitionId, true);
        report.removed.push(key);
      }
    }
    const changed = report.created.length + report.truncated.length + report.reset.length + report.removed.length + report.failed.length;
    if (changed > 0) {
      this.options.logger.info({ ...report, kept: report.kept.length }, 'broker: assignment applied');
      // Partitions came, went or were cut back: every long-poll looks again at what it waits on.
      this.changes.notify();
    }
    return report;
  }

  /** One partition's assignment (see reconcile); what became of it, for the report. */
  private async applyAssignment(key: string, assignment: StoreAssignment, round: number): Promise<keyof ReconcileReport> {
    try {
      let entry = this.partitions.get(assignment.topicId, assignment.partitionId);
      if (!entry && assignment.epoch <= (this.removedAtEpoch.get(key) ?? -1)) return 'ignored';
      this.removedAtEpoch.delete(key);
      if (!entry) {
        const location = {
          dir: join(this.partitionsDir, partitionDirName(assignment.topicId, assignment.partitionId)),
          topicId: assignment.topicId,
          partitionId: assignment.partitionId,
        };
        if (!(await exists(location.dir))) {
          const log = await this.create(location, assignment);
          this.partitions.set(assignment.topicId, assignment.partitionId, { log, changedAt: round });
          return 'created';
        }
        // Files left by a partition dropped after a failure: they may still be the current epoch's.
        entry = { log: await PartitionLog.open(location, this.settings), changedAt: round };
        this.partitions.set(assignment.topicId, assignment.partitionId, entry);
      }
      const outcome = await entry.log.adopt(assignment);
      if (outcome === 'ignored-stale-epoch') return 'ignored';
      if (outcome !== 'kept') entry.changedAt = round;
      return outcome;
    } catch (error) {
      this.options.onWriteFailed?.(error);
      this.options.logger.error({ partition: key, err: error }, 'broker: applying the assignment failed; partition dropped until the next one');
      await this.dropEntry(assignment.topicId, assignment.partitionId, false);
      return 'failed';
    }
  }

  /** Takes the partition out of service at once, then closes it (and deletes its files when `destroy`). */
  private async dropEntry(topicId: number, partitionId: number, destroy: boolean): Promise<void> {
    const entry = this.partitions.get(topicId, partitionId);
    if (!entry) return;
    this.partitions.delete(topicId, partitionId);
    const key = partitionKey(topicId, partitionId);
    try {
      if (destroy) await entry.log.destroy();
      else await entry.log.close();
    } catch (error) {
      this.options.logger.warn({ partition: key, err: error }, 'broker: closing a partition failed');
    }
    this.closedFsyncs += entry.log.walFsyncs;
  }

  /** Shutdown, step one: long-polls answer now and acks=all appends fail with UNAVAILABLE. */
  interrupt(): void {
    const stopping = new PartqError('UNAVAILABLE', 'the broker is shutting down');
    for (const log of this.logs()) log.failWaiters(stopping);
    this.changes.notify();
  }

  /** Waits for running reconciles and in-flight appends, then closes every WAL (files are kept). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.expirySweep);
    await this.reconcileChain;
    const entries = [...this.partitions.values()];
    this.partitions.clear();
    await Promise.all(entries.map((entry) => entry.log.close(new PartqError('UNAVAILABLE', 'the broker is shutting down'))));
  }
}

function sweepIntervalFor(expiryMs: number): number {
  return Math.max(100, Math.min(60_000, Math.floor(expiryMs / 4)));
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
