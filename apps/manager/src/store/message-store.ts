import type { Database, PartitionRow } from '@partq/schema';
import { sql, type Kysely } from 'kysely';

export interface CommittedRecord {
  offset: number;
  payload: Uint8Array;
  key: Uint8Array | undefined;
  producerId: number;
  sequence: number | undefined;
  timestampMs: number;
}

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
      const updated: PartitionRow[] = [];
      for (const batch of nonEmpty) {
        const last = batch.records[batch.records.length - 1]!;
        const row = await tx
          .updateTable('partitions')
          .set({ high_watermark: last.offset + 1 })
          .where('topic_id', '=', batch.topicId)
          .where('partition_id', '=', batch.partitionId)
          .where('epoch', '=', batch.epoch)
          .where('high_watermark', '>=', batch.from)
          .where('high_watermark', '<=', last.offset)
          .returningAll()
          .executeTakeFirst();
        if (!row) continue; // fenced (epoch moved on) or already committed
        // unnest keeps this one statement with a fixed number of parameters, whatever the batch size.
        await sql`
          INSERT INTO messages (topic_id, partition_id, "offset", payload, key, producer_id, sequence, appended_at)
          SELECT ${batch.topicId}, ${batch.partitionId}, r.off, r.payload, r.key, r.producer_id, r.seq, to_timestamp(r.ts / 1000.0)
          FROM unnest(
            ${batch.records.map((r) => r.offset)}::int8[],
            ${batch.records.map((r) => Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength))}::bytea[],
            ${batch.records.map((r) => (r.key ? Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength) : null))}::bytea[],
            ${batch.records.map((r) => r.producerId || null)}::int4[],
            ${batch.records.map((r) => r.sequence ?? null)}::int8[],
            ${batch.records.map((r) => r.timestampMs)}::float8[]
          ) AS r(off, payload, key, producer_id, seq, ts)
          ON CONFLICT DO NOTHING
        `.execute(tx);
        updated.push(row);
      }
      return updated;
    });
  }
}
