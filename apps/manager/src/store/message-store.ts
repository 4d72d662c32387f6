import type { BatchRecord } from '@partq/proto';
import type { Database, PartitionRow } from '@partq/schema';
import { sql, type Kysely } from 'kysely';
import { recordRuns } from './record-runs.js';

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
  constructor(private readonly db: Kysely<Database>) {}

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
    return this.db.transaction().execute(async (tx) => {
      // A custom plan (PostgreSQL's choice for every unnamed statement) folds each parameter into
      // the plan as a constant, copying the payloads' bytea into freshly allocated memory: a
      // third of PostgreSQL's CPU per 1 KiB row went to those page faults. A generic plan reads
      // the parameter where it lies. LOCAL: the setting ends with this transaction.
      await sql`SET LOCAL plan_cache_mode = force_generic_plan`.execute(tx);
      const updated: PartitionRow[] = [];
      for (const batch of nonEmpty) {
        const last = batch.records[batch.records.length - 1]!;
        // Locked until the commit: the high watermark this batch continues from.
        const before = await tx
          .selectFrom('partitions')
          .select('high_watermark')
          .where('topic_id', '=', batch.topicId)
          .where('partition_id', '=', batch.partitionId)
          .where('epoch', '=', batch.epoch)
          .forUpdate()
          .executeTakeFirst();
        // Fenced (no such epoch any more), already committed, or a gap: nothing to do.
        if (!before || before.high_watermark < batch.from || before.high_watermark > last.offset) continue;
        const row = await tx
          .updateTable('partitions')
          .set({ high_watermark: last.offset + 1 })
          .where('topic_id', '=', batch.topicId)
          .where('partition_id', '=', batch.partitionId)
          .returningAll()
          .executeTakeFirstOrThrow();
        // Records below the old high watermark are committed already (a replayed or overlapping sync).
        // None at or above it can exist: rows are only ever inserted here, together with moving the
        // high watermark past them. So the insert needs no ON CONFLICT, whose speculative insertion
        // cost PostgreSQL 15-30 % more CPU per row (measured with 100 B and 1 KiB rows).
        const firstNew = batch.records.findIndex((r) => r.offset >= before.high_watermark);
        const records = batch.records.slice(firstNew);
        // One statement with a fixed number of parameters, whatever the batch size: the records' shared
        // fields go per run (recordRuns), generate_series numbers each run's records, and the
        // per-record arrays are indexed by position. Payloads and keys travel as one bytea, cut apart
        // by position: a bytea[] parameter goes as an array literal of hex strings that pg escapes and
        // PostgreSQL parses element by element, which with 1 KiB messages was most of the commit's
        // CPU in this process and in PostgreSQL. The numbers go as array literals written here, not
        // as JS arrays pg escapes element by element; the keys' arrays are NULL when no record has a
        // key. The bytes are the last parameter: pg's writer grows its buffer by copying what it
        // holds, so any parameter after them would copy the whole payload once more.
        const count = records.length;
        const packed = packBytes([...records.map((r) => r.payload), ...records.map((r) => r.key)]);
        const keyed = records.some((r) => r.key !== undefined);
        const runs = recordRuns(records);
        await sql`
          INSERT INTO messages (topic_id, partition_id, "offset", payload, key, producer_id, sequence, appended_at)
          SELECT ${batch.topicId}, ${batch.partitionId}, r.first_offset + g.i,
                 substring(b.data from (p.starts)[r.first_index + g.i] for (p.lengths)[r.first_index + g.i]),
                 CASE WHEN (k.starts)[r.first_index + g.i] IS NULL THEN NULL
                      ELSE substring(b.data from (k.starts)[r.first_index + g.i] for (k.lengths)[r.first_index + g.i]) END,
                 r.producer_id, r.first_sequence + g.i, to_timestamp(r.ts / 1000.0)
          FROM unnest(
            ${arrayLiteral(runs.firstIndex)}::int4[],
            ${arrayLiteral(runs.count)}::int4[],
            ${arrayLiteral(runs.firstOffset)}::int8[],
            ${arrayLiteral(runs.producerId)}::int4[],
            ${arrayLiteral(runs.firstSequence)}::int8[],
            ${arrayLiteral(runs.timestampMs)}::int8[]
          ) AS r(first_index, count, first_offset, producer_id, first_sequence, ts)
          CROSS JOIN LATERAL generate_series(0, r.count - 1) AS g(i),
          (SELECT ${arrayLiteral(packed.starts.slice(0, count))}::int4[] AS starts,
                  ${arrayLiteral(packed.lengths.slice(0, count))}::int4[] AS lengths) AS p,
          (SELECT ${keyed ? arrayLiteral(packed.starts.slice(count)) : null}::int4[] AS starts,
                  ${keyed ? arrayLiteral(packed.lengths.slice(count)) : null}::int4[] AS lengths) AS k,
          (SELECT ${packed.bytes}::bytea AS data) AS b
        `.execute(tx);
        updated.push(row);
      }
      return updated;
    });
  }
}

/** Bytes between two values a shared span may carry along, per value (a record's framing is < 40). */
const MAX_GAP_PER_VALUE = 64;

/** Byte strings laid end to end, with the 1-based position (SQL substring) and length of each; absent ones are null. */
export interface PackedBytes {
  bytes: Buffer;
  starts: (number | null)[];
  lengths: (number | null)[];
}

/**
 * Lays the values end to end. Values that are all views into one buffer (records decoded from one
 * GetUpdates answer) are not copied: `bytes` is the stretch of that buffer they span, positions
 * point into it, and whatever lies between them (record framing) goes along unused.
 */
export function packBytes(values: readonly (Uint8Array | undefined)[]): PackedBytes {
  const span = sharedSpan(values);
  if (span) {
    const starts = values.map((v) => (v === undefined ? null : v.byteOffset - span.byteOffset + 1));
    const lengths = values.map((v) => (v === undefined ? null : v.byteLength));
    return { bytes: span, starts, lengths };
  }
  const present: Uint8Array[] = [];
  const starts: (number | null)[] = [];
  const lengths: (number | null)[] = [];
  let position = 1;
  for (const value of values) {
    if (value === undefined) {
      starts.push(null);
      lengths.push(null);
      continue;
    }
    present.push(value);
    starts.push(position);
    lengths.push(value.byteLength);
    position += value.byteLength;
  }
  return { bytes: Buffer.concat(present), starts, lengths };
}

/** The stretch of one buffer that every present value is a view into, when they all are; else undefined. */
function sharedSpan(values: readonly (Uint8Array | undefined)[]): Buffer | undefined {
  let buffer: ArrayBufferLike | undefined;
  let from = Number.POSITIVE_INFINITY;
  let to = 0;
  let present = 0;
  let bytes = 0;
  for (const value of values) {
    if (value === undefined) continue;
    if (buffer === undefined) buffer = value.buffer;
    else if (value.buffer !== buffer) return undefined;
    from = Math.min(from, value.byteOffset);
    to = Math.max(to, value.byteOffset + value.byteLength);
    present++;
    bytes += value.byteLength;
  }
  if (buffer === undefined) return Buffer.alloc(0);
  // Only when what lies between the values is little (a record's framing): never ship a large
  // buffer for a few small views into it.
  if (to - from > bytes + MAX_GAP_PER_VALUE * present) return undefined;
  return Buffer.from(buffer, from, to - from);
}

/** A PostgreSQL array literal of integers (nulls as NULL), e.g. {1,NULL,3}. */
export function arrayLiteral(values: readonly (number | null)[]): string {
  let text = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) text += ',';
    if (value === null || value === undefined) text += 'NULL';
    else if (Number.isSafeInteger(value)) text += value;
    else throw new RangeError(`not a safe integer: ${value}`);
  }
  return `${text}}`;
}
