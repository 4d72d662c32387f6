import type { BatchRecord } from '@partq/proto';
import type { Database, PartitionRow } from '@partq/schema';
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import { CopyBinaryWriter } from './copy-binary-writer.js';
import { copyIn } from './copy-in.js';

/** A record as synced from a broker (decoded from GetUpdates' record bytes), ready to commit. */
export type CommittedRecord = BatchRecord;

export interface PartitionBatch {
  topicId: number;
  partitionId: number;
  /** The owner's epoch the records came from; a batch of a deposed owner is refused. */
  epoch: number;
  /** The high watermark the batch continues from (its first record's offset). */
  from: number;
  records: CommittedRecord[];
}

/**
 * Commits brokers' records into `messages` and moves the partitions' high watermarks,
 * in one transaction. Idempotent: a replayed batch inserts nothing twice and moves
 * nothing backwards.
 */
export class MessageStore {
  /** `db` and `pool`: the same Central DB (`databaseOn(pool)`). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly pool: pg.Pool,
  ) {}

  /** The last `limit` committed (producer, sequence, offset) of a partition below `belowOffset`, ascending. */
  async recentSequences(topicId: number, partitionId: number, belowOffset: number, limit: number) {
    const rows = await this.db
      .selectFrom('messages')
      .select(['producer_id', 'sequence', 'offset'])
      .where('topic_id', '=', topicId)
      .where('partition_id', '=', partitionId)
      .where('offset', '<', belowOffset)
      .where('sequence', 'is not', null)
      .orderBy('offset', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse().map((r) => ({ producerId: r.producer_id ?? 0, sequence: r.sequence ?? 0, offset: r.offset }));
  }

  async commit(batches: PartitionBatch[]): Promise<PartitionRow[]> {
    const nonEmpty = batches.filter((b) => b.records.length > 0);
    if (nonEmpty.length === 0) return [];
    // The transaction runs on a client of its own: Kysely builds its statements, but cannot send COPY.
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const claimed = new Map<string, PartitionRow & { previous_high_watermark: number }>();
      for (const row of await rowsOf(client, claimHighWatermarks(nonEmpty).compile(this.db))) claimed.set(`${row.topic_id}/${row.partition_id}`, row);
      const updated: PartitionRow[] = [];
      const rows = new CopyBinaryWriter({ expectedBytes: copyBytesOf(nonEmpty) });
      // In the batches' order (callers and tests read the answer in it).
      for (const batch of nonEmpty) {
        const row = claimed.get(`${batch.topicId}/${batch.partitionId}`);
        if (!row) continue;
        const { previous_high_watermark: previous, ...partition } = row;
        updated.push(partition);
        // Records below the old high watermark are committed already (a replayed or overlapping sync).
        // None at or above it can exist: rows are only ever inserted here, together with moving the
        // high watermark past them. So the COPY cannot meet a duplicate key.
        for (const record of batch.records) {
          if (record.offset >= previous) writeMessageRow(rows, batch, record);
        }
      }
      // One COPY for the whole sync. COPY inserts a page's worth of rows at a time (one WAL record per
      // page, not per row) and parses no SQL per row: against the run-wise INSERT ... SELECT it
      // replaced, PostgreSQL spent 7.5-7.8 instead of 9.7-10.3 us per 1 KiB row and 3.3 instead
      // of 4.8-5.0 us per 100 B row, and this process a quarter less.
      if (rows.rows > 0) await copyIn(client, COPY_MESSAGES, rows.finish());
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

/** The columns of `messages`, in the order writeMessageRow writes them. */
const COPY_MESSAGES =
  'COPY messages (topic_id, partition_id, "offset", payload, key, producer_id, sequence, appended_at) FROM STDIN (FORMAT binary)';

/**
 * One statement for every partition of the sync, whatever their number: locks each partition row
 * under the batch's epoch (until the commit), and moves its high watermark past the batch's last
 * record when the batch continues from it (the old high watermark lies within the batch). A
 * partition fenced since (another epoch), committed already, or with a gap before the batch is
 * left out of the answer, and its records are not inserted. Answers each moved partition with
 * the high watermark it had before.
 */
function claimHighWatermarks(batches: readonly PartitionBatch[]) {
  const keys = new Set(batches.map((b) => `${b.topicId}/${b.partitionId}`));
  if (keys.size !== batches.length) throw new RangeError('a sync has one batch per partition');
  // Each column as one array parameter: the statement's text stays the same whatever the count.
  return sql<PartitionRow & { previous_high_watermark: number }>`
    WITH batch AS (
      SELECT * FROM unnest(
        ${batches.map((b) => b.topicId)}::int4[],
        ${batches.map((b) => b.partitionId)}::int4[],
        ${batches.map((b) => b.epoch)}::int4[],
        ${batches.map((b) => b.from)}::int8[],
        ${batches.map((b) => b.records[b.records.length - 1]!.offset)}::int8[]
      ) AS b(topic_id, partition_id, epoch, from_offset, last_offset)
    ), locked AS MATERIALIZED (
      SELECT p.topic_id, p.partition_id, p.high_watermark
      FROM partitions p JOIN batch b ON b.topic_id = p.topic_id AND b.partition_id = p.partition_id AND b.epoch = p.epoch
      ORDER BY p.topic_id, p.partition_id
      FOR UPDATE OF p
    )
    UPDATE partitions p SET high_watermark = b.last_offset + 1
    FROM batch b JOIN locked l ON l.topic_id = b.topic_id AND l.partition_id = b.partition_id
    WHERE p.topic_id = b.topic_id AND p.partition_id = b.partition_id
      AND l.high_watermark >= b.from_offset AND l.high_watermark <= b.last_offset
    RETURNING p.*, l.high_watermark AS previous_high_watermark
  `;
}

/** A row's bytes besides its payload and key: the field count, 8 lengths, 3 int4 and 3 int8 values. */
const ROW_FIXED_BYTES = 2 + 8 * 4 + 3 * 4 + 3 * 8;

/** The bytes a COPY of every record of the batches takes, at most (records a sync skips are counted too). */
function copyBytesOf(batches: readonly PartitionBatch[]): number {
  let bytes = 0;
  for (const batch of batches) {
    for (const record of batch.records) bytes += ROW_FIXED_BYTES + record.payload.byteLength + (record.key?.byteLength ?? 0);
  }
  return bytes;
}

function writeMessageRow(rows: CopyBinaryWriter, batch: PartitionBatch, record: CommittedRecord): void {
  rows.row(8).int4(batch.topicId).int4(batch.partitionId).int8(record.offset).bytea(record.payload);
  if (record.key === undefined) rows.null();
  else rows.bytea(record.key);
  // Producer id 0 is no producer.
  if (record.producerId === 0) rows.null();
  else rows.int4(record.producerId);
  if (record.sequence === undefined) rows.null();
  else rows.int8(record.sequence);
  rows.timestampMs(record.timestampMs);
}

/** Runs a statement Kysely compiled on a pg client of the pool (same types: numbers for bigint, Buffers for bytea). */
async function rowsOf<O>(client: pg.ClientBase, query: CompiledQuery<O>): Promise<O[]> {
  const result = await client.query({ text: query.sql, values: [...query.parameters] });
  return result.rows as O[];
}
