import type { Kysely } from 'kysely';
import type { Database } from '@partq/schema';
import type { FetchedRecord } from './fetched-record.js';

/**
 * Reads committed records from the messages table: the source for offsets a broker no longer
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
    const rows = await db
      .selectFrom('messages')
      .select(['offset', 'payload', 'key', 'appended_at'])
      .where('topic_id', '=', topicId)
      .where('partition_id', '=', partitionId)
      .where('offset', '>=', from)
      .orderBy('offset')
      .limit(limit)
      .execute();
    return rows.map((row) => {
      const record: FetchedRecord = { offset: Number(row.offset), payload: row.payload, timestampMs: row.appended_at.getTime() };
      if (row.key !== null) record.key = row.key;
      return record;
    });
  }
}
