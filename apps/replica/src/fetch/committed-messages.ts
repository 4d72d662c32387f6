import { sql, type Kysely } from 'kysely';
import type { Database } from '@partq/schema';
import { fetchedRecordsOfBatch, type FetchedRecord } from './fetched-record.js';

/**
 * Reads committed records from the record_batches table: the source for offsets a broker no longer
 * keeps (its WAL was trimmed after the manager committed them) or cannot serve (it is down).
 *
 * With a read database (a hot standby) reads go there first; a standby that lags may lack the
 * newest rows, so an empty answer from it is checked against the primary.
 */
export class CommittedMessages {
  constructor(
    private readonly primary: Kysely<Database>,
    private readonly standby?: Kysely<Database>,
  ) {}

  /**
   * Up to `limit` records of the partition from `from` on, in offset order. The first may be past
   * `from` when retention deleted the ones before it.
   */
  async read(topicId: number, partitionId: number, from: number, limit: number): Promise<FetchedRecord[]> {
    if (this.standby) {
      const records = await this.query(this.standby, topicId, partitionId, from, limit);
      if (records.length > 0) return records;
    }
    return this.query(this.primary, topicId, partitionId, from, limit);
  }

  private async query(db: Kysely<Database>, topicId: number, partitionId: number, from: number, limit: number): Promise<FetchedRecord[]> {
    if (limit <= 0) return [];
    // The rows from the one holding `from` (the last starting at or before it), or from the first
    // after it when retention deleted that one, to the row holding the last record wanted. Both
    // ends are found through the primary key; no row below them is read.
    const { rows } = await sql<{ records: Buffer }>`
      WITH start AS (
        SELECT COALESCE(
          (SELECT max(base_offset) FROM record_batches WHERE topic_id = ${topicId} AND partition_id = ${partitionId} AND base_offset <= ${from}),
          (SELECT min(base_offset) FROM record_batches WHERE topic_id = ${topicId} AND partition_id = ${partitionId} AND base_offset > ${from})
        ) AS base_offset
      )
      SELECT b.records FROM record_batches b, start s
      WHERE b.topic_id = ${topicId} AND b.partition_id = ${partitionId}
        AND b.base_offset >= s.base_offset AND b.base_offset < GREATEST(s.base_offset, ${from}) + ${limit}
      ORDER BY b.base_offset
    `.execute(db);
    const records: FetchedRecord[] = [];
    for (const row of rows) {
      for (const record of fetchedRecordsOfBatch(row.records)) {
        if (record.offset < from) continue;
        records.push(record);
        if (records.length === limit) return records;
      }
    }
    return records;
  }
}
