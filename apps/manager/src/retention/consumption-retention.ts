import type { Database, PartitionRow } from '@partq/schema';
import { sql, type Kysely } from 'kysely';
import { deleteBelowStart } from './delete-below-start.js';

/** The records of a partition always kept (the brokers' idempotence window: 8192 sequences). */
export const IDEMPOTENCE_WINDOW_RECORDS = 8192;

/**
 * Consumption-based retention, the course's rule: a message is deleted once every consumer that
 * was subscribed when it was published has consumed it. Consumers registered later start at the
 * end of the log, so the lowest position of the partition's consumers is that bound. A partition
 * nobody has subscribed to keeps its messages (so a consumer starting from "earliest" finds them;
 * read literally, the rule would delete them at once). Only what PostgreSQL committed (below the
 * high watermark) is deleted, and the partition's log start offset (the "bias") moves up to it.
 * A consumer's last delivery is kept too: a consume retried with its request id replays it. So is
 * what a consume stream may still give back, from its floor (`stream_from`) on: the stream commits
 * a position before its delivery reaches the client, and rewinds to what the client handed out when
 * it reconnects. And the last IDEMPOTENCE_WINDOW_RECORDS records of every partition stay, for
 * producers' retries.
 */
export async function applyConsumptionRetention(
  db: Kysely<Database>,
  options: { keepLast?: number } = {},
): Promise<{ partitions: PartitionRow[]; deleted: number }> {
  // A broker taking a partition over learns the producers' committed sequences from these rows,
  // so a producer's retry of a record stored just before the failover is still recognized.
  const keepLast = options.keepLast ?? IDEMPOTENCE_WINDOW_RECORDS;
  return db.transaction().execute(async (tx) => {
    const moved = await sql<PartitionRow>`
      WITH lows AS (
        SELECT p.topic_id, p.partition_id,
               LEAST(GREATEST(p.high_watermark - ${keepLast}, 0), MIN(LEAST(cp.next_offset, COALESCE(cp.stream_from, cp.next_offset))), MIN(cd.from_offset)) AS new_start
        FROM partitions p
        JOIN consumer_positions cp ON cp.topic_id = p.topic_id AND cp.partition_id = p.partition_id
        -- A consumer's last delivery stays readable: a retry of that consume gets it again.
        LEFT JOIN consumer_deliveries cd ON cd.consumer_id = cp.consumer_id AND cd.partition_id = p.partition_id
        GROUP BY p.topic_id, p.partition_id, p.high_watermark
      )
      UPDATE partitions p SET log_start_offset = lows.new_start
      FROM lows
      WHERE p.topic_id = lows.topic_id AND p.partition_id = lows.partition_id AND lows.new_start > p.log_start_offset
      RETURNING p.topic_id, p.partition_id, p.log_start_offset
    `.execute(tx);
    return deleteBelowStart(tx, moved.rows);
  });
}
