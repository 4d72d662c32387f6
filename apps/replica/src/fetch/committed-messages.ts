import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { PartqError } from '@partq/runtime';
import { firstFieldOfCopyRows } from './copy-binary-rows.js';
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
    private readonly primary: pg.Pool,
    private readonly standby?: pg.Pool,
  ) {}

  /**
   * Up to `limit` records of the partition from `from` on, in offset order, from stored batches of
   * about `maxBytes` at most (the one holding `from` is always read, however large). The first may
   * be past `from` when retention deleted the ones before it.
   */
  async read(topicId: number, partitionId: number, from: number, limit: number, maxBytes = Number.MAX_SAFE_INTEGER): Promise<FetchedRecord[]> {
    if (this.standby) {
      const records = await this.query(this.standby, topicId, partitionId, from, limit, maxBytes);
      if (records.length > 0) return records;
    }
    return this.query(this.primary, topicId, partitionId, from, limit, maxBytes);
  }

  private async query(pool: pg.Pool, topicId: number, partitionId: number, from: number, limit: number, maxBytes: number): Promise<FetchedRecord[]> {
    if (limit <= 0) return [];
    const client = await pool.connect();
    let rows: Buffer[];
    try {
      rows = firstFieldOfCopyRows(await copyOut(client, recordBatchesFrom(topicId, partitionId, from, limit, maxBytes)));
    } catch (error) {
      // A COPY cut short leaves the connection in an unknown state: it is closed, not reused.
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    client.release();
    const records: FetchedRecord[] = [];
    for (const row of rows) {
      for (const record of fetchedRecordsOfBatch(row)) {
        if (record.offset < from) continue;
        records.push(record);
        if (records.length === limit) return records;
      }
    }
    return records;
  }
}

/**
 * The rows from the one holding `from` (the last starting at or before it), or from the first after
 * it when retention deleted that one, to the row holding the last record wanted, and only as many
 * of them as begin within `maxBytes` of stored bytes (a read of 1 MiB messages must not bring
 * thousands of them into memory at once). Both ends are found through the primary key; no row below
 * them is read.
 *
 * As binary COPY output: a SELECT answers `bytea` in hex text, which PostgreSQL encodes and the
 * replica decodes again, twice the bytes; that cost both sides about twice the CPU of the COPY
 * (docs/performance-log.md, twenty-sixth round). COPY takes no parameters, so the numbers are
 * written into the statement, after checking that they are plain integers.
 */
function recordBatchesFrom(topicId: number, partitionId: number, from: number, limit: number, maxBytes: number): string {
  const [topic, partition, start, count, bytes] = [topicId, partitionId, from, limit, maxBytes].map(integerLiteral);
  return `COPY (
    WITH start AS (
      SELECT COALESCE(
        (SELECT max(base_offset) FROM record_batches WHERE topic_id = ${topic} AND partition_id = ${partition} AND base_offset <= ${start}),
        (SELECT min(base_offset) FROM record_batches WHERE topic_id = ${topic} AND partition_id = ${partition} AND base_offset > ${start})
      ) AS base_offset
    ),
    wanted AS (
      SELECT b.base_offset, b.records,
        sum(octet_length(b.records)) OVER (ORDER BY b.base_offset) - octet_length(b.records) AS bytes_before
      FROM record_batches b, start s
      WHERE b.topic_id = ${topic} AND b.partition_id = ${partition}
        AND b.base_offset >= s.base_offset AND b.base_offset < GREATEST(s.base_offset, ${start}) + ${count}
    )
    SELECT records FROM wanted WHERE bytes_before < ${bytes}
    ORDER BY base_offset
  ) TO STDOUT (FORMAT binary)`;
}

function integerLiteral(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new PartqError('INTERNAL', `not an offset or id: ${value}`);
  return String(value);
}

/** Runs a `COPY … TO STDOUT` on `client` and resolves with everything it sent. */
function copyOut(client: pg.PoolClient, statement: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const stream = client.query(copyTo(statement));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', reject);
    stream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}
