import type { Database, PartitionRow } from '@partq/schema';
import { sql, type Kysely } from 'kysely';

/** A partition's next owner, under a new epoch. */
export interface PartitionOwnerChange {
  topicId: number;
  partitionId: number;
  brokerId: number | null;
  epoch: number;
  /**
   * The previous owner is dead or was never there: it was not drained, so what it acknowledged
   * past the high watermark is lost, and the new owner starts at the high watermark.
   */
  ownerLost?: boolean;
}

/**
 * Applies one owner change unless the partition's epoch already reached it (a replay of the
 * transaction log changes nothing twice). Returns the partition as changed, or undefined when it
 * was not. Run it in a transaction: with `ownerLost` it also hands the consumers' positions over.
 */
export async function applyOwnerChange(db: Kysely<Database>, change: PartitionOwnerChange): Promise<PartitionRow | undefined> {
  const row = await db
    .updateTable('partitions')
    .set({ broker_id: change.brokerId, epoch: change.epoch })
    .where('topic_id', '=', change.topicId)
    .where('partition_id', '=', change.partitionId)
    .where('epoch', '<', change.epoch)
    .returningAll()
    .executeTakeFirst();
  if (row && change.ownerLost) await handPositionsOver(db, row);
  return row;
}

/**
 * The lost owner's records past the high watermark are gone and the new owner reuses their
 * offsets, so a consumer that read some of them must read on from the high watermark, or it would
 * skip the records that take those offsets. Positions past it move back to it and carry the new
 * epoch (a replica still delivering what it read from the lost owner is then refused), the consume
 * stream that moved them last is fenced off until it starts a new run, and a consume retry would no
 * longer replay those lost records: its remembered delivery is dropped.
 */
async function handPositionsOver(db: Kysely<Database>, partition: PartitionRow): Promise<void> {
  const { topic_id: topicId, partition_id: partitionId, high_watermark: highWatermark, epoch } = partition;
  await db
    .updateTable('consumer_positions')
    .set({
      next_offset: sql<number>`LEAST(next_offset, ${highWatermark}::bigint)`,
      stream_from: sql<number | null>`LEAST(stream_from, ${highWatermark}::bigint)`,
      // The stream that read past the high watermark: its running runs may not move this position
      // again. Their client holds offsets of the lost records, so a delivery of the new owner's records
      // at those offsets that never reached it (the client re-opens its stream every 5 s) could not be
      // given back by its resume, and was lost. Its next run starts after this and is not fenced.
      fence_stream: sql<string | null>`CASE WHEN next_offset > ${highWatermark}::bigint AND stream_id IS NOT NULL THEN stream_id ELSE fence_stream END`,
      fence_run: sql<number | null>`CASE WHEN next_offset > ${highWatermark}::bigint AND stream_id IS NOT NULL THEN nextval('consumer_stream_runs') ELSE fence_run END`,
      epoch,
      updated_at: sql<Date>`now()`,
    })
    .where('topic_id', '=', topicId)
    .where('partition_id', '=', partitionId)
    .execute();
  await db
    .deleteFrom('consumer_deliveries')
    .where('partition_id', '=', partitionId)
    .where('to_offset', '>', highWatermark)
    .where('consumer_id', 'in', (consumers) => consumers.selectFrom('consumers').select('id').where('topic_id', '=', topicId))
    .execute();
}
