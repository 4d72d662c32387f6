import { decodeSequenceRuns, encodeSequenceRuns } from '@partq/partition';
import type { RecordBatchIndex } from '@partq/proto';
import { PreparedStatement, RECORD_BATCH_ROW_BYTES, type Database, type PartitionRow } from '@partq/schema';
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import { CopyBinaryWriter } from './copy-binary-writer.js';
import { copyIn } from './copy-in.js';
import { sequenceRunsOf } from './sequence-runs.js';

export interface PartitionBatch {
  topicId: number;
  partitionId: number;
  /** The owner's epoch the records came from; a batch of a deposed owner is refused. */
  epoch: number;
  /** The high watermark the batch continues from (at or past its first record's offset). */
  from: number;
  /** The records as the broker stores them: a RecordBatch's bytes (GetUpdates' records_data). */
  data: Uint8Array;
  /** indexRecordBatch(data): at least one record. */
  index: RecordBatchIndex;
}

/** The rows a page of recentSequences' scan reads at a time, newest first (only their sequence runs). */
const SEQUENCE_SCAN_ROWS = 256;

/**
 * Commits brokers' records into `record_batches` (runs of a partition's records, a row each) and
 * moves the partitions' high watermarks, in one transaction. Idempotent: a replayed batch inserts
 * nothing twice and moves nothing backwards.
 */
export class MessageStore {
  /** `db` and `pool`: the same Central DB (`databaseOn(pool)`). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly pool: pg.Pool,
  ) {}

  /**
   * The last `limit` committed (producer, sequence, offset) of a partition below `belowOffset`,
   * ascending. Reads the sequence runs of the partition's rows newest first, a page at a time, until
   * it has them; never the records themselves.
   */
  async recentSequences(topicId: number, partitionId: number, belowOffset: number, limit: number) {
    const found: { producerId: number; sequence: number; offset: number }[] = [];
    let below = belowOffset;
    while (found.length < limit) {
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
        for (let r = runs.length - 1; r >= 0 && found.length < limit; r--) {
          const run = runs[r]!;
          for (let i = run.count - 1; i >= 0 && found.length < limit; i--) {
            const offset = run.firstOffset + i;
            if (offset < belowOffset) found.push({ producerId: run.producerId, sequence: run.firstSequence + i, offset });
          }
        }
        below = row.base_offset;
      }
      if (rows.length < SEQUENCE_SCAN_ROWS) break;
    }
    return found.reverse();
  }

  async commit(batches: PartitionBatch[], beforeCommit?: Promise<void>): Promise<PartitionRow[]> {
    const nonEmpty = batches.filter((b) => b.index.offsets.length > 0);
    if (nonEmpty.length === 0) return [];
    // The transaction runs on a client of its own: Kysely builds its statements, but cannot send COPY.
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const claimed = new Map<string, PartitionRow & { previous_high_watermark: number }>();
      for (const row of await claimHighWatermarks(client, nonEmpty)) claimed.set(`${row.topic_id}/${row.partition_id}`, row);
      const updated: PartitionRow[] = [];
      const overlapping: StoredBytesChange[] = [];
      const rows = new CopyBinaryWriter({ expectedBytes: copyBytesOf(nonEmpty) });
      // In the batches' order (callers and tests read the answer in it).
      for (const batch of nonEmpty) {
        const row = claimed.get(`${batch.topicId}/${batch.partitionId}`);
        if (!row) continue;
        const { previous_high_watermark: previous, ...partition } = row;
        // Records below the old high watermark are committed already (a replayed or overlapping sync).
        // None at or above it can exist: rows are only ever inserted here, together with moving the
        // high watermark past them. So the COPY cannot meet a duplicate key.
        writeBatchRows(rows, batch, previous);
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

/** The columns of `record_batches`, in the order writeBatchRows writes them. */
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
 * Each column is one array parameter, so the text is the same whatever the count, and prepared:
 * PostgreSQL planned it afresh in every sync, ~0.5 of the ~1.1 ms the statement took a sync of one
 * record (docs/performance-log.md, round 45).
 */
const CLAIM_HIGH_WATERMARKS = new PreparedStatement<
  PartitionRow & { previous_high_watermark: number },
  [topicIds: number[], partitionIds: number[], epochs: number[], from: number[], lastOffsets: number[], bytes: number[]]
>(
  'partq_manager_claim_high_watermarks',
  `WITH batch AS (
     SELECT * FROM unnest($1::int4[], $2::int4[], $3::int4[], $4::int8[], $5::int8[], $6::int8[])
       AS b(topic_id, partition_id, epoch, from_offset, last_offset, bytes)
   ), locked AS MATERIALIZED (
     SELECT p.topic_id, p.partition_id, p.high_watermark
     FROM partitions p JOIN batch b ON b.topic_id = p.topic_id AND b.partition_id = p.partition_id AND b.epoch = p.epoch
     ORDER BY p.topic_id, p.partition_id
     FOR UPDATE OF p
   )
   UPDATE partitions p SET high_watermark = b.last_offset + 1, stored_bytes = p.stored_bytes + b.bytes
   FROM batch b JOIN locked l ON l.topic_id = b.topic_id AND l.partition_id = b.partition_id
   WHERE p.topic_id = b.topic_id AND p.partition_id = b.partition_id
     AND l.high_watermark >= b.from_offset AND l.high_watermark <= b.last_offset
   RETURNING p.*, l.high_watermark AS previous_high_watermark`,
);

async function claimHighWatermarks(client: pg.ClientBase, batches: readonly PartitionBatch[]) {
  const keys = new Set(batches.map((b) => `${b.topicId}/${b.partitionId}`));
  if (keys.size !== batches.length) throw new RangeError('a sync has one batch per partition');
  const { rows } = await CLAIM_HIGH_WATERMARKS.run(client, [
    batches.map((b) => b.topicId),
    batches.map((b) => b.partitionId),
    batches.map((b) => b.epoch),
    batches.map((b) => b.from),
    batches.map(lastOffsetOf),
    batches.map((b) => bytesFrom(b, b.from)),
  ]);
  return rows;
}

/** A row's bytes besides its records and sequence runs: the field count, 7 lengths, 2 int4 and 3 int8 values. */
const ROW_FIXED_BYTES = 2 + 7 * 4 + 2 * 4 + 3 * 8;

/** The bytes of the batch's records at offset `from` and past it (what writeBatchRows inserts from there). */
function bytesFrom(batch: PartitionBatch, from: number): number {
  const { offsets, starts, ends } = batch.index;
  let first = 0;
  while (first < offsets.length && offsets[first]! < from) first++;
  return first < offsets.length ? ends[ends.length - 1]! - starts[first]! : 0;
}

/** The offset of a batch's last record. */
export function lastOffsetOf(batch: PartitionBatch): number {
  const offsets = batch.index.offsets;
  return offsets[offsets.length - 1]!;
}

/** About the bytes a COPY of the batches takes (a hint for the writer's first chunk). */
function copyBytesOf(batches: readonly PartitionBatch[]): number {
  let bytes = 0;
  for (const batch of batches) bytes += batch.data.byteLength + ROW_FIXED_BYTES * (Math.ceil(batch.data.byteLength / RECORD_BATCH_ROW_BYTES) + 1);
  return bytes;
}

/**
 * Writes the batch's records from offset `from` on as rows of consecutive records, each at most
 * RECORD_BATCH_ROW_BYTES unless one record alone is larger. A row's bytes are a slice of the
 * broker's: runs of a RecordBatch are RecordBatches themselves, so nothing is decoded or re-encoded.
 * Beside them go the row's producer sequences, as runs (a few per row), and its newest append time.
 */
function writeBatchRows(rows: CopyBinaryWriter, batch: PartitionBatch, from: number): void {
  const { offsets, starts, ends } = batch.index;
  let first = 0;
  while (first < offsets.length && offsets[first]! < from) first++;
  while (first < offsets.length) {
    let last = first;
    while (last + 1 < offsets.length && ends[last + 1]! - starts[first]! <= RECORD_BATCH_ROW_BYTES) last++;
    rows.row(7).int4(batch.topicId).int4(batch.partitionId).int8(offsets[first]!).int8(offsets[last]! + 1);
    rows.bytea(batch.data.subarray(starts[first], ends[last]));
    rows.bytea(encodeSequenceRuns(sequenceRunsOf(batch.index, first, last)));
    rows.int8(newestOf(batch.index.timestamps, first, last));
    first = last + 1;
  }
}

/** The largest of values[first..last] (a new owner's clock may run behind the last one's). */
function newestOf(values: readonly number[], first: number, last: number): number {
  let newest = values[first]!;
  for (let i = first + 1; i <= last; i++) if (values[i]! > newest) newest = values[i]!;
  return newest;
}

/** Runs a statement Kysely compiled on a pg client of the pool (same types: numbers for bigint, Buffers for bytea). */
async function rowsOf<O>(client: pg.ClientBase, query: CompiledQuery<O>): Promise<O[]> {
  const result = await client.query({ text: query.sql, values: [...query.parameters] });
  return result.rows as O[];
}
