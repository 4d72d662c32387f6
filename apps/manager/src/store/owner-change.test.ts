import { useMigratedDatabase } from '../../test/migrated-database.js';
import { applyOwnerChange } from './owner-change.js';

const testDb = useMigratedDatabase();

/** A topic of one partition at `epoch` with `highWatermark` committed, and consumers at `positions`. */
async function partitionWithConsumers(name: string, highWatermark: number, positions: number[]) {
  const db = testDb.db;
  const topic = await db.insertInto('topics').values({ name, partition_count: 1 }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('partitions').values({ topic_id: topic.id, partition_id: 0, epoch: 1, high_watermark: highWatermark }).execute();
  const consumers: number[] = [];
  for (const next of positions) {
    const { id } = await db.insertInto('consumers').values({ topic_id: topic.id }).returning('id').executeTakeFirstOrThrow();
    await db
      .insertInto('consumer_positions')
      .values({ consumer_id: id, topic_id: topic.id, partition_id: 0, next_offset: next, stream_id: 's', stream_from: next - 1 })
      .execute();
    await db
      .insertInto('consumer_deliveries')
      .values({ consumer_id: id, request_id: `r${id}`, partition_id: 0, from_offset: next - 1, to_offset: next })
      .execute();
    consumers.push(id);
  }
  return { topicId: topic.id, consumers };
}

async function positionsOf(topicId: number) {
  return testDb.db
    .selectFrom('consumer_positions')
    .select(['next_offset', 'stream_from', 'epoch'])
    .where('topic_id', '=', topicId)
    .orderBy('consumer_id')
    .execute();
}

async function deliveriesOf(consumers: number[]) {
  const rows = await testDb.db.selectFrom('consumer_deliveries').select('consumer_id').where('consumer_id', 'in', consumers).orderBy('consumer_id').execute();
  return rows.map((row) => row.consumer_id);
}

describe('applyOwnerChange', () => {
  test('a lost owner: positions past the high watermark move back to it, and every position takes the new epoch', async () => {
    const { topicId, consumers } = await partitionWithConsumers('lost-owner', 10, [4, 10, 13]);
    const row = await testDb.db.transaction().execute((tx) => applyOwnerChange(tx, { topicId, partitionId: 0, brokerId: null, epoch: 2, ownerLost: true }));
    expect(row).toMatchObject({ epoch: 2, high_watermark: 10 });
    expect(await positionsOf(topicId)).toEqual([
      { next_offset: 4, stream_from: 3, epoch: 2 },
      { next_offset: 10, stream_from: 9, epoch: 2 },
      { next_offset: 10, stream_from: 10, epoch: 2 },
    ]);
    // A retried consume must not replay records the lost owner took with it.
    expect(await deliveriesOf(consumers)).toEqual(consumers.slice(0, 2));
  });

  test('a lost owner fences off the running stream that read past the high watermark, and only that one', async () => {
    const { topicId, consumers } = await partitionWithConsumers('lost-owner-fence', 10, [4, 13]);
    const before = Number((await testDb.db.selectNoFrom((eb) => eb.fn<string>('nextval', [eb.val('consumer_stream_runs')]).as('run')).executeTakeFirstOrThrow()).run);
    await testDb.db.transaction().execute((tx) => applyOwnerChange(tx, { topicId, partitionId: 0, brokerId: null, epoch: 2, ownerLost: true }));
    const fences = await testDb.db
      .selectFrom('consumer_positions')
      .select(['consumer_id', 'fence_stream', 'fence_run'])
      .where('topic_id', '=', topicId)
      .orderBy('consumer_id')
      .execute();
    // The consumer at 4 read nothing the owner lost: its stream runs on.
    expect(fences[0]).toEqual({ consumer_id: consumers[0], fence_stream: null, fence_run: null });
    // The one at 13 did: every run of stream 's' numbered so far is refused there.
    expect(fences[1]).toMatchObject({ consumer_id: consumers[1], fence_stream: 's' });
    expect(Number(fences[1]!.fence_run)).toBeGreaterThan(before);
  });

  test('a drained owner leaves positions alone, and a replayed change does nothing twice', async () => {
    const { topicId, consumers } = await partitionWithConsumers('drained-owner', 10, [4, 10]);
    expect(await applyOwnerChange(testDb.db, { topicId, partitionId: 0, brokerId: null, epoch: 2 })).toMatchObject({ epoch: 2 });
    expect(await positionsOf(topicId)).toEqual([
      { next_offset: 4, stream_from: 3, epoch: 0 },
      { next_offset: 10, stream_from: 9, epoch: 0 },
    ]);
    expect(await applyOwnerChange(testDb.db, { topicId, partitionId: 0, brokerId: null, epoch: 2, ownerLost: true })).toBeUndefined();
    expect((await positionsOf(topicId)).map((p) => p.epoch)).toEqual([0, 0]);
    expect(await deliveriesOf(consumers)).toEqual(consumers);
  });
});
