import { decodeSequenceRuns, partitionKey, type SequenceRun } from '@partq/partition';
import { PreparedStatement, RECORD_BATCH_ROW_BYTES, type Database, type PartitionRow } from '@partq/schema';
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import { continueHighWatermarks } from './continue-high-watermarks.js';
import { CopyBinaryWriter } from './copy-binary-writer.js';
import { copyIn } from './copy-in.js';
import { LOCKED_BATCH, lockedBatchParams, type LockedBatchParams } from './locked-batch.js';
import { batchRows, bytesFrom, type BatchRow, type PartitionBatch } from './partition-batch.js';

export { lastOffsetOf, type PartitionBatch } from './partition-batch.js';

export interface MessageStoreOptions {
  /**
   * A sync of at most this many record bytes commits in one statement (continueHighWatermarks)
   * rather than a transaction with a COPY; larger ones, whose bytes a COPY carries in binary, by
   * the transaction. 0: always the transaction.
   */
  oneStatementBytes?: number;
}

/**
 * The one statement carries bytea as hex text inside array literals (twice the bytes, encoded and
 * parsed) and inserts through unnest, the COPY in binary: per byte the statement costs more, per
 * sync the transaction's round trips do. Commits of one sync after another on one connection
 * (docs/performance-log.md, round 45): at ~6 KiB the statement took half the wall time and half
 * PostgreSQL's CPU, at 21–25 KiB still less of both, at ~62 KiB more of both.
 */
const DEFAULT_ONE_STATEMENT_BYTES = 16 * 1024;

/** The rows a page of recentSequences' scan reads at a time, newest first (only their sequence runs). */
const SEQUENCE_SCAN_ROWS = 256;

/**
 * Commits brokers' records into `record_batches` (runs of a partition's records, a row each) and
 * moves the partitions' high watermarks: a partition's rows and its high watermark together or not
 * at all. Idempotent: a replayed batch inserts nothing twice and moves nothing backwards.
 */
export class MessageStore {
  private readonly oneStatementBytes: number;

  /** `db` and `pool`: the same Central DB (`databaseOn(pool)`). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly pool: pg.Pool,
    options: MessageStoreOptions = {},
  ) {
    this.oneStatementBytes = options.oneStatementBytes ?? DEFAULT_ONE_STATEMENT_BYTES;
  }

  /**
   * The last `limit` committed (producer, sequence, offset) of a partition below `belowOffset`,
   * ascending, one entry each (see recentSequenceRuns).
   */
  async recentSequences(topicId: number, partitionId: number, belowOffset: number, limit: number) {
    const found: { producerId: number; sequence: number; offset: number }[] = [];
    for (const run of await this.recentSequenceRuns(topicId, partitionId, belowOffset, limit)) {
      for (let i = 0; i < run.count; i++) found.push({ producerId: run.producerId, sequence: run.firstSequence + i, offset: run.firstOffset + i });
    }
    return found;
  }

  /**
   * The same as runs, ascending by offset, cut at `belowOffset` and at `limit` sequences. Reads the
   * sequence runs of the partition's rows newest first, a page at a time, until it has them; never
   * the records themselves.
   */
  async recentSequenceRuns(topicId: number, partitionId: number, belowOffset: number, limit: number): Promise<SequenceRun[]> {
    const found: SequenceRun[] = [];
    let count = 0;
    let below = belowOffset;
    while (count < limit) {
      const rows = await this.db
        .selectFrom('record_batches')
        .select(['base_offset', 'sequences'])
        .where('topic_id', '=', topicId)
        .where('partition_id', '=', partitionId)
        .where('base_offset', '<', below)
        .orderBy('base_offset', 'desc')
        .limit(SEQUENCE_SCAN_ROWS)
        .execute();
      for (const row of rows) {
        const runs = decodeSequenceRuns(row.sequences);
        for (let r = runs.length - 1; r >= 0 && count < limit; r--) {
          const run = runs[r]!;
          // The run's sequences below `belowOffset`, the newest of them that still fit under `limit`.
          const under = Math.min(run.count, belowOffset - run.firstOffset);
          if (under <= 0) continue;
          const take = Math.min(under, limit - count);
          const skip = under - take;
          found.push({ producerId: run.producerId, firstSequence: run.firstSequence + skip, firstOffset: run.firstOffset + skip, count: take });
          count += take;
        }
        below = row.base_offset;
      }
      if (rows.length < SEQUENCE_SCAN_ROWS) break;
    }
    return found.reverse();
  }

  /**
   * Commits the batches (one per partition) and answers the partitions whose high watermark moved,
   * in the batches' order. `beforeCommit` (the sync's transaction-log event) settles before anything
   * commits; if it rejects, nothing does. Each partition's rows and high watermark commit together.
   */
  async commit(batches: PartitionBatch[], beforeCommit?: Promise<void>): Promise<PartitionRow[]> {
    const nonEmpty = batches.filter((b) => b.index.offsets.length > 0);
    if (nonEmpty.length === 0) return [];
    if (new Set(nonEmpty.map(keyOf)).size !== nonEmpty.length) throw new RangeError('a sync has one batch per partition');
    if (recordBytesOf(nonEmpty) > this.oneStatementBytes) return this.commitInTransaction(nonEmpty, beforeCommit);
    // One statement commits as it runs: the event goes to disk first, where the transaction's
    // statements ran beside its fsync. Most syncs of a partition continue where the last ended.
    await beforeCommit;
    const moved = new Map((await continueHighWatermarks(this.pool, nonEmpty)).map((row) => [keyOf(row), row]));
    const rest = nonEmpty.filter((batch) => !moved.has(keyOf(batch)));
    if (rest.length > 0) for (const row of await this.commitInTransaction(rest)) moved.set(keyOf(row), row);
    return nonEmpty.flatMap((batch) => moved.get(keyOf(batch)) ?? []);
  }

  /** BEGIN, the claim, one COPY of every row, COMMIT: any sync, any overlap with what was committed. */
  private async commitInTransaction(nonEmpty: PartitionBatch[], beforeCommit?: Promise<void>): Promise<PartitionRow[]> {
    // The transaction runs on a client of its own: Kysely builds its statements, but cannot send COPY.
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const claimed = new Map<string, PartitionRow & { previous_high_watermark: number }>();
      for (const row of await claimHighWatermarks(client, nonEmpty)) claimed.set(keyOf(row), row);
      const updated: PartitionRow[] = [];
      const overlapping: StoredBytesChange[] = [];
      const rows = new CopyBinaryWriter({ expectedBytes: copyBytesOf(nonEmpty) });
      // In the batches' order (callers and tests read the answer in it).
      for (const batch of nonEmpty) {
        const row = claimed.get(keyOf(batch));
        if (!row) continue;
        const { previous_high_watermark: previous, ...partition } = row;
        // Records below the old high watermark are committed already (a replayed or overlapping sync).
        // None at or above it can exist: rows are only ever inserted here, together with moving the
        // high watermark past them. So the COPY cannot meet a duplicate key.
        for (const stored of batchRows(batch, previous)) writeRow(rows, batch, stored);
        if (previous !== batch.from) {
          const change = bytesFrom(batch, previous) - bytesFrom(batch, batch.from);
          overlapping.push({ topicId: batch.topicId, partitionId: batch.partitionId, change });
          partition.stored_bytes += change;
        }
        updated.push(partition);
      }
      // One COPY for the whole sync: no SQL is parsed per row.
      if (rows.rows > 0) await copyIn(client, COPY_RECORD_BATCHES, rows.finish());
      if (overlapping.length > 0) await rowsOf(client, changeStoredBytes(overlapping).compile(this.db));
      // The sync's transaction-log event must be on disk before its records are (TransactionLog.runAlongside).
      await beforeCommit;
      await client.query('COMMIT');
      return updated;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      // A connection whose ROLLBACK failed is in no known state: the pool drops it.
      client.release(broken);
    }
  }
}

/** The columns of `record_batches`, in the order writeRow writes them. */
const COPY_RECORD_BATCHES =
  'COPY record_batches (topic_id, partition_id, base_offset, next_offset, records, sequences, last_timestamp_ms) FROM STDIN (FORMAT binary)';

/** A partition's `stored_bytes` to move by `change`. */
interface StoredBytesChange {
  topicId: number;
  partitionId: number;
  change: number;
}

/** Moves `stored_bytes` of partitions whose batch overlapped what was committed (claimHighWatermarks counted all of it). */
function changeStoredBytes(changes: readonly StoredBytesChange[]) {
  return sql<never>`
    UPDATE partitions p SET stored_bytes = p.stored_bytes + c.change
    FROM unnest(${changes.map((c) => c.topicId)}::int4[], ${changes.map((c) => c.partitionId)}::int4[], ${changes.map((c) => c.change)}::int8[])
      AS c(topic_id, partition_id, change)
    WHERE p.topic_id = c.topic_id AND p.partition_id = c.partition_id
  `;
}

/**
 * One statement for every partition of the sync, whatever their number: locks each partition row
 * under the batch's epoch (until the commit), and moves its high watermark past the batch's last
 * record when the batch continues from it (the old high watermark lies within the batch). A
 * partition fenced since (another epoch), committed already, or with a gap before the batch is
 * left out of the answer, and its records are not inserted. Answers each moved partition with
 * the high watermark it had before. `stored_bytes` grows by the batch's records from its `from`:
 * what is inserted, unless the batch overlaps what was committed (the caller corrects that).
 * Prepared (its text is the same whatever the count): PostgreSQL planned it afresh in every sync, ~0.5 of the ~1.1 ms the statement took a sync of one
 * record (docs/performance-log.md, round 45).
 */
const CLAIM_HIGH_WATERMARKS = new PreparedStatement<PartitionRow & { previous_high_watermark: number }, LockedBatchParams>(
  'partq_manager_claim_high_watermarks',
  `${LOCKED_BATCH}
   UPDATE partitions p SET high_watermark = b.last_offset + 1, stored_bytes = p.stored_bytes + b.bytes
   FROM batch b JOIN locked l ON l.topic_id = b.topic_id AND l.partition_id = b.partition_id
   WHERE p.topic_id = b.topic_id AND p.partition_id = b.partition_id
     AND l.high_watermark >= b.from_offset AND l.high_watermark <= b.last_offset
   RETURNING p.*, l.high_watermark AS previous_high_watermark`,
);

async function claimHighWatermarks(client: pg.ClientBase, batches: readonly PartitionBatch[]) {
  return (await CLAIM_HIGH_WATERMARKS.run(client, lockedBatchParams(batches))).rows;
}

/** A row's bytes besides its records and sequence runs: the field count, 7 lengths, 2 int4 and 3 int8 values. */
const ROW_FIXED_BYTES = 2 + 7 * 4 + 2 * 4 + 3 * 8;

/** About the bytes a COPY of the batches takes (a hint for the writer's first chunk). */
function copyBytesOf(batches: readonly PartitionBatch[]): number {
  let bytes = 0;
  for (const batch of batches) bytes += batch.data.byteLength + ROW_FIXED_BYTES * (Math.ceil(batch.data.byteLength / RECORD_BATCH_ROW_BYTES) + 1);
  return bytes;
}

/** One row into the COPY, its columns in COPY_RECORD_BATCHES' order. */
function writeRow(rows: CopyBinaryWriter, batch: PartitionBatch, row: BatchRow): void {
  rows.row(7).int4(batch.topicId).int4(batch.partitionId).int8(row.baseOffset).int8(row.nextOffset);
  rows.bytea(row.records).bytea(row.sequences).int8(row.lastTimestampMs);
}

/** A partition's key, from a batch or a `partitions` row. */
function keyOf(partition: PartitionBatch | PartitionRow): string {
  return 'topicId' in partition ? partitionKey(partition.topicId, partition.partitionId) : partitionKey(partition.topic_id, partition.partition_id);
}

function recordBytesOf(batches: readonly PartitionBatch[]): number {
  let bytes = 0;
  for (const batch of batches) bytes += batch.data.byteLength;
  return bytes;
}

/** Runs a statement Kysely compiled on a pg client of the pool (same types: numbers for bigint, Buffers for bytea). */
async function rowsOf<O>(client: pg.ClientBase, query: CompiledQuery<O>): Promise<O[]> {
  const result = await client.query({ text: query.sql, values: [...query.parameters] });
  return result.rows as O[];
}
