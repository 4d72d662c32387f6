import { useMigratedDatabase } from '../../test/migrated-database.js';
import { applyConsumptionRetention } from './consumption-retention.js';

const testDb = useMigratedDatabase();

/** The first offset of each stored run of the partition. */
async function messageOffsets(topicId: number, partitionId: number): Promise<number[]> {
  const rows = await testDb.db
    .selectFrom('record_batches')
    .select('base_offset')
    .where('topic_id', '=', topicId)
    .where('partition_id', '=', partitionId)
    .orderBy('base_offset')
    .execute();
  return rows.map((r) => r.base_offset);
}

/** A stored run of records [base, next); retention reads only its offsets, never its bytes. */
function run(topicId: number, partitionId: number, base: number, next = base + 1) {
  return { topic_id: topicId, partition_id: partitionId, base_offset: base, next_offset: next, records: Buffer.from(`m${base}-${next}`), sequences: Buffer.alloc(0), last_timestamp_ms: Date.now() };
}

test('deletes what every subscriber consumed, only below the high watermark, and moves the log start', async () => {
  const topic = await testDb.db.insertInto('topics').values({ name: 'kept', partition_count: 2 }).returning('id').executeTakeFirstOrThrow();
  await testDb.db
    .insertInto('partitions')
    .values([
      { topic_id: topic.id, partition_id: 0, high_watermark: 10 },
      { topic_id: topic.id, partition_id: 1, high_watermark: 4 },
    ])
    .execute();
  // A record a row, so every offset is a boundary (runs are below).
  await testDb.db
    .insertInto('record_batches')
    .values([0, 1].flatMap((partitionId) => Array.from({ length: partitionId === 0 ? 10 : 4 }, (_, offset) => run(topic.id, partitionId, offset))))
    .execute();
  const slow = await testDb.db.insertInto('consumers').values({ topic_id: topic.id }).returning('id').executeTakeFirstOrThrow();
  const fast = await testDb.db.insertInto('consumers').values({ topic_id: topic.id }).returning('id').executeTakeFirstOrThrow();
  await testDb.db
    .insertInto('consumer_positions')
    .values([
      { consumer_id: slow.id, topic_id: topic.id, partition_id: 0, next_offset: 3 },
      { consumer_id: fast.id, topic_id: topic.id, partition_id: 0, next_offset: 8 },
      // Ahead of the high watermark: records beyond it are not in PostgreSQL yet.
      { consumer_id: slow.id, topic_id: topic.id, partition_id: 1, next_offset: 6 },
      { consumer_id: fast.id, topic_id: topic.id, partition_id: 1, next_offset: 6 },
    ])
    .execute();

  const first = await applyConsumptionRetention(testDb.db, { keepLast: 0 });
  expect(first.deleted).toBe(3 + 4);
  expect(await messageOffsets(topic.id, 0)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  expect(await messageOffsets(topic.id, 1)).toEqual([]);
  expect(first.partitions.map((p) => [p.partition_id, p.log_start_offset]).sort()).toEqual([
    [0, 3],
    [1, 4],
  ]);

  // The last delivery of a consumer stays readable for a retried consume.
  await testDb.db.insertInto('consumer_deliveries').values({ consumer_id: fast.id, request_id: 'r', partition_id: 0, from_offset: 6, to_offset: 8 }).execute();
  await testDb.db.updateTable('consumer_positions').set({ next_offset: 9 }).where('partition_id', '=', 0).execute();
  const afterDelivery = await applyConsumptionRetention(testDb.db, { keepLast: 0 });
  expect(afterDelivery.partitions.map((p) => [p.partition_id, p.log_start_offset])).toEqual([[0, 6]]);
  expect(await messageOffsets(topic.id, 0)).toEqual([6, 7, 8, 9]);

  // The last records of a partition stay for the producers' idempotence window.
  await testDb.db.updateTable('consumer_positions').set({ next_offset: 10 }).where('partition_id', '=', 0).execute();
  await testDb.db.deleteFrom('consumer_deliveries').execute();
  expect((await applyConsumptionRetention(testDb.db, { keepLast: 2 })).partitions.map((p) => [p.partition_id, p.log_start_offset])).toEqual([[0, 8]]);
  expect(await messageOffsets(topic.id, 0)).toEqual([8, 9]);

  // A topic nobody subscribed to keeps its messages.
  const lonely = await testDb.db.insertInto('topics').values({ name: 'lonely', partition_count: 1 }).returning('id').executeTakeFirstOrThrow();
  await testDb.db.insertInto('partitions').values({ topic_id: lonely.id, partition_id: 0, high_watermark: 1 }).execute();
  await testDb.db.insertInto('record_batches').values(run(lonely.id, 0, 0)).execute();

  // Nothing new consumed: a second run deletes nothing and moves nothing.
  const again = await applyConsumptionRetention(testDb.db, { keepLast: 2 });
  expect(again).toEqual({ partitions: [], deleted: 0 });
  expect(await messageOffsets(lonely.id, 0)).toEqual([0]);
});

test('deletes a run of records once all of it is consumed; a run across the new start stays whole', async () => {
  // The test before leaves subscribed partitions that keepLast 0 would move as well.
  await testDb.db.deleteFrom('consumer_positions').execute();
  const topic = await testDb.db.insertInto('topics').values({ name: 'runs', partition_count: 1 }).returning('id').executeTakeFirstOrThrow();
  await testDb.db.insertInto('partitions').values({ topic_id: topic.id, partition_id: 0, high_watermark: 30 }).execute();
  await testDb.db
    .insertInto('record_batches')
    .values([run(topic.id, 0, 0, 10), run(topic.id, 0, 10, 20), run(topic.id, 0, 20, 30)])
    .execute();
  const consumer = await testDb.db.insertInto('consumers').values({ topic_id: topic.id }).returning('id').executeTakeFirstOrThrow();
  await testDb.db.insertInto('consumer_positions').values({ consumer_id: consumer.id, topic_id: topic.id, partition_id: 0, next_offset: 15 }).execute();

  const first = await applyConsumptionRetention(testDb.db, { keepLast: 0 });
  // The log starts at 15; offsets 10-14 stay stored with their run, unread (readers start at 15).
  expect(first.partitions.map((p) => p.log_start_offset)).toEqual([15]);
  expect(first.deleted).toBe(10);
  expect(await messageOffsets(topic.id, 0)).toEqual([10, 20]);

  await testDb.db.updateTable('consumer_positions').set({ next_offset: 30 }).where('consumer_id', '=', consumer.id).execute();
  const second = await applyConsumptionRetention(testDb.db, { keepLast: 0 });
  expect(second.partitions.map((p) => p.log_start_offset)).toEqual([30]);
  expect(second.deleted).toBe(20);
  expect(await messageOffsets(topic.id, 0)).toEqual([]);
});

test('keeps what a consume stream may still give back: from its floor, not from its position', async () => {
  await testDb.db.deleteFrom('consumer_positions').execute();
  const topic = await testDb.db.insertInto('topics').values({ name: 'streamed', partition_count: 1 }).returning('id').executeTakeFirstOrThrow();
  await testDb.db.insertInto('partitions').values({ topic_id: topic.id, partition_id: 0, high_watermark: 100 }).execute();
  await testDb.db.insertInto('record_batches').values(Array.from({ length: 10 }, (_, i) => run(topic.id, 0, i * 10, i * 10 + 10))).execute();
  const consumer = await testDb.db.insertInto('consumers').values({ topic_id: topic.id }).returning('id').executeTakeFirstOrThrow();
  // A stream delivered up to 80, but its client confirmed only 30 (the floor): 30-79 may come back.
  await testDb.db
    .insertInto('consumer_positions')
    .values({ consumer_id: consumer.id, topic_id: topic.id, partition_id: 0, next_offset: 80, stream_id: 's', stream_from: 30 })
    .execute();

  const first = await applyConsumptionRetention(testDb.db, { keepLast: 0 });
  expect(first.partitions.map((p) => p.log_start_offset)).toEqual([30]);
  expect(await messageOffsets(topic.id, 0)).toEqual([30, 40, 50, 60, 70, 80, 90]);

  // The client reconnected with its offsets: the floor rose to them.
  await testDb.db.updateTable('consumer_positions').set({ stream_from: 80 }).where('consumer_id', '=', consumer.id).execute();
  const second = await applyConsumptionRetention(testDb.db, { keepLast: 0 });
  expect(second.partitions.map((p) => p.log_start_offset)).toEqual([80]);
  expect(await messageOffsets(topic.id, 0)).toEqual([80, 90]);
});
