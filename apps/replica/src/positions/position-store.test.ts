import { createDatabase, createTestDatabase, migrateToLatest, type Database, type TestDatabase } from '@partq/schema';
import type { Kysely } from 'kysely';
import { PositionStore } from './position-store.js';

let database: TestDatabase;
let db: Kysely<Database>;
let topicId: number;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url);
  await migrateToLatest(db);
  topicId = (await db.insertInto('topics').values({ name: 'positions', partition_count: 2 }).returning('id').executeTakeFirstOrThrow()).id;
  await db
    .insertInto('partitions')
    .values([0, 1].map((p) => ({ topic_id: topicId, partition_id: p })))
    .execute();
}, 60_000);

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

/** A consumer of the whole topic with the given next offsets for partitions 0 and 1. */
async function consumerAt(offsets: [number, number]): Promise<number> {
  const { id } = await db.insertInto('consumers').values({ topic_id: topicId }).returning('id').executeTakeFirstOrThrow();
  await db
    .insertInto('consumer_positions')
    .values(offsets.map((next_offset, partition_id) => ({ consumer_id: id, topic_id: topicId, partition_id, next_offset })))
    .execute();
  return id;
}

async function storedPosition(consumerId: number, partitionId: number): Promise<number> {
  const row = await db
    .selectFrom('consumer_positions')
    .select('next_offset')
    .where('consumer_id', '=', consumerId)
    .where('partition_id', '=', partitionId)
    .executeTakeFirstOrThrow();
  return row.next_offset;
}

describe('PositionStore', () => {
  it('loads a consumer’s positions and caches them', async () => {
    const store = new PositionStore(db);
    const id = await consumerAt([5, 7]);
    expect([...(await store.positionsOf(id))]).toEqual([
      [0, 5],
      [1, 7],
    ]);
    await db.updateTable('consumer_positions').set({ next_offset: 9 }).where('consumer_id', '=', id).execute();
    expect((await store.positionsOf(id)).get(0)).toBe(5);
    expect((await store.reload(id)).get(0)).toBe(9);
  });

  it('advances a position only from the value it still has in the database', async () => {
    const store = new PositionStore(db);
    const id = await consumerAt([0, 0]);
    await store.positionsOf(id);
    await expect(store.advance(id, 0, 0, 3)).resolves.toBe(true);
    expect(await storedPosition(id, 0)).toBe(3);
    expect((await store.positionsOf(id)).get(0)).toBe(3);

    // Someone else moved it on: the compare-and-set misses and the cache is dropped.
    await db.updateTable('consumer_positions').set({ next_offset: 8 }).where('consumer_id', '=', id).where('partition_id', '=', 0).execute();
    await expect(store.advance(id, 0, 3, 5)).resolves.toBe(false);
    expect(await storedPosition(id, 0)).toBe(8);
    expect((await store.positionsOf(id)).get(0)).toBe(8);
  });

  it('lets exactly one of two racing advances from the same position win', async () => {
    const [a, b] = [new PositionStore(db), new PositionStore(db)];
    const id = await consumerAt([10, 0]);
    const results = await Promise.all([a.advance(id, 0, 10, 12), b.advance(id, 0, 10, 15)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await storedPosition(id, 0)).toBe(results[0] ? 12 : 15);
  });

  it('refuses to move a position backwards', async () => {
    const store = new PositionStore(db);
    const id = await consumerAt([4, 0]);
    await expect(store.advance(id, 0, 4, 2)).rejects.toThrow(RangeError);
    expect(await storedPosition(id, 0)).toBe(4);
  });

  it('keeps at most the configured number of consumers cached', async () => {
    const store = new PositionStore(db, 1);
    const first = await consumerAt([1, 1]);
    const second = await consumerAt([2, 2]);
    await store.positionsOf(first);
    await store.positionsOf(second);
    await db.updateTable('consumer_positions').set({ next_offset: 6 }).where('consumer_id', '=', first).execute();
    expect((await store.positionsOf(first)).get(0)).toBe(6);
  });
});
