import type { Database, PartitionRow } from '@partq/schema';
import { sql, type Kysely } from 'kysely';

/**
 * Consumption-based retention, the course's rule: a message is deleted once every consumer that
 * was subscribed when it was published has consumed it. Consumers registered later start at the
 * end of the log, so the lowest position of the partition's consumers is that bound. A partition
 * nobody has subscribed to keeps its messages (so a consumer starting from "earliest" finds them;
 * read literally, the rule would delete them at once). Only what PostgreSQL committed (below the
 * high watermark) is deleted, and the partition's log start offset (the "bias") moves up to it.
 * A consumer's last delivery is kept too: a consume retried with its request id replays it.
 */
export async function applyConsumptionRetention(db: Kysely<Database>): Promise<{ partitions: PartitionRow[]; deleted: number }> {
  return db.transaction().execute(async (tx) => {
    const moved = await sql<PartitionRow>`
      WITH lows AS (
        SELECT p.topic_id, p.partition_id,
               LEAST(p.high_watermark, MIN(cp.next_offset), MIN(cd.from_offset)) AS new_start
        FROM partitions p
        JOIN consumer_positions cp ON cp.topic_id = p.topic_id AND cp.partition_id = p.partition_id
        -- A consumer's last delivery stays readable: a retry of that consume gets it again.
        LEFT JOIN consumer_deliveries cd ON cd.consumer_id = cp.consumer_id AND cd.partition_id = p.partition_id
        GROUP BY p.topic_id, p.partition_id, p.high_watermark
      )
      UPDATE partitions p SET log_start_offset = lows.new_start
      FROM lows
      WHERE p.topic_id = lows.topic_id AND p.partition_id = lows.partition_id AND lows.new_start > p.log_start_offset
      RETURNING p.*
    `.execute(tx);
    let deleted = 0;
    for (const p of moved.rows) {
      const result = await tx
        .deleteFrom('messages')
        .where('topic_id', '=', p.topic_id)
        .where('partition_id', '=', p.partition_id)
        .where('offset', '<', p.log_start_offset)
        .executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return { partitions: moved.rows.map((r) => ({ ...r, log_start_offset: Number(r.log_start_offset), high_watermark: Number(r.high_watermark) })), deleted };
  });
}
