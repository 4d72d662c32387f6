import { createPool, createTestDatabase, databaseOn, migrateToLatest, type Database, type TestDatabase } from '@partq/schema';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { PositionStore } from './position-store.js';

let database: TestDatabase;
let pool: pg.Pool;
let db: Kysely<Database>;
let topicId: number;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  db = databaseOn(pool);
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
    const store = new PositionStore(db, pool);
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
    const store = new PositionStore(db, pool);
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
    const [a, b] = [new PositionStore(db, pool), new PositionStore(db, pool)];
    const id = await consumerAt([10, 0]);
    const results = await Promise.all([a.advance(id, 0, 10, 12), b.advance(id, 0, 10, 15)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await storedPosition(id, 0)).toBe(results[0] ? 12 : 15);
  });

  it('refuses to move a position backwards', async () => {
    const store = new PositionStore(db, pool);
    const id = await consumerAt([4, 0]);
    await expect(store.advance(id, 0, 4, 2)).rejects.toThrow(RangeError);
    expect(await storedPosition(id, 0)).toBe(4);
  });

  it('records a unary delivery with its request id in the same statement as the advance', async () => {
    const store = new PositionStore(db, pool);
    const id = await consumerAt([20, 0]);
    await expect(store.advance(id, 0, 20, 23, { requestId: 'r-record' })).resolves.toBe(true);
    const stored = await db.selectFrom('consumer_deliveries').selectAll().where('consumer_id', '=', id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ request_id: 'r-record', partition_id: 0, from_offset: 20, to_offset: 23 });
    // A missed compare-and-set records nothing.
    await expect(store.advance(id, 0, 20, 25, { requestId: 'r-stale' })).resolves.toBe(false);
    expect(await new PositionStore(db, pool).lastDelivery(id)).toEqual({ requestId: 'r-record', partitionId: 0, from: 20, to: 23 });
  });

  it('commits positions with prepared statements, parsed once per connection', async () => {
    const single = createPool(database.url, { max: 1 });
    try {
      const store = new PositionStore(databaseOn(single), single);
      const id = await consumerAt([0, 0]);
      for (let to = 1; to <= 3; to++) await store.advance(id, 0, to - 1, to, { streamId: 's-prepared', run: 0 });
      await store.advance(id, 0, 3, 4);
      await store.advance(id, 0, 4, 5, { requestId: 'r-prepared' });
      expect(await storedPosition(id, 0)).toBe(5);
      const { rows } = await single.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name');
      expect(rows.map((row) => row.name)).toEqual(['partq_replica_advance', 'partq_replica_advance_by_request', 'partq_replica_advance_by_stream']);
    } finally {
      await single.end();
    }
  });

  it('keeps at most the configured number of consumers cached', async () => {
    const store = new PositionStore(db, pool, 1);
    const first = await consumerAt([1, 1]);
    const second = await consumerAt([2, 2]);
    await store.positionsOf(first);
    await store.positionsOf(second);
    await db.updateTable('consumer_positions').set({ next_offset: 6 }).where('consumer_id', '=', first).execute();
    expect((await store.positionsOf(first)).get(0)).toBe(6);
  });
});

describe('PositionStore: stream deliveries and rewinds', () => {
  async function streamColumns(consumerId: number, partitionId: number): Promise<{ stream_id: string | null; stream_from: number | null }> {
    return db
      .selectFrom('consumer_positions')
      .select(['stream_id', 'stream_from'])
      .where('consumer_id', '=', consumerId)
      .where('partition_id', '=', partitionId)
      .executeTakeFirstOrThrow();
  }

  it('remembers the stream that moved a position and where its deliveries began', async () => {
    const store = new PositionStore(db, pool);
    const id = await consumerAt([10, 0]);
    await expect(store.advance(id, 0, 10, 13, { streamId: 's1', run: 0 })).resolves.toBe(true);
    await expect(store.advance(id, 0, 13, 15, { streamId: 's1', run: 0 })).resolves.toBe(true);
    expect(await streamColumns(id, 0)).toEqual({ stream_id: 's1', stream_from: 10 });
    // Another stream takes over: its deliveries begin where it took the position.
    await expect(store.advance(id, 0, 15, 16, { streamId: 's2', run: 0 })).resolves.toBe(true);
    expect(await streamColumns(id, 0)).toEqual({ stream_id: 's2', stream_from: 15 });
    // A unary consume clears both.
    await expect(store.advance(id, 0, 16, 17, { requestId: 'r1' })).resolves.toBe(true);
    expect(await streamColumns(id, 0)).toEqual({ stream_id: null, stream_from: null });
    await expect(store.advance(id, 0, 17, 18, { streamId: 's2', run: 0 })).resolves.toBe(true);
    await expect(store.advance(id, 0, 18, 19)).resolves.toBe(true);
    expect(await streamColumns(id, 0)).toEqual({ stream_id: null, stream_from: null });
  });

  it('gives back what the stream delivered past the client’s offset, never below where it began', async () => {
    const store = new PositionStore(db, pool);
    const id = await consumerAt([10, 4]);
    await store.advance(id, 0, 10, 20, { streamId: 's', run: 0 });
    await store.advance(id, 0, 20, 30, { streamId: 's', run: 0 });
    await store.advance(id, 1, 4, 9, { streamId: 's', run: 0 });
    await store.positionsOf(id);

    // The client got partition 0 up to 24; of partition 1 it got nothing.
    expect(await store.rewind(id, 's', new Map([[0, 25]]))).toEqual(
      expect.arrayContaining([
        { partitionId: 0, from: 30, to: 25 },
        { partitionId: 1, from: 9, to: 4 },
      ]),
    );
    expect(await storedPosition(id, 0)).toBe(25);
    expect(await storedPosition(id, 1)).toBe(4);
    // The cache is dropped: the next consume starts from the rewound positions.
    expect([...(await store.positionsOf(id))]).toEqual([
      [0, 25],
      [1, 4],
    ]);

    // The client handed out partition 0 up to 25: the stream's floor rose there (partition 1, not
    // listed, keeps where the stream began). A second rewind stops at the floor.
    expect(await streamColumns(id, 0)).toEqual({ stream_id: 's', stream_from: 25 });
    expect(await streamColumns(id, 1)).toEqual({ stream_id: 's', stream_from: 4 });
    await expect(store.advance(id, 0, 25, 40, { streamId: 's', run: 0 })).resolves.toBe(true);
    expect(await store.rewind(id, 's', new Map([[0, 3]]))).toEqual([{ partitionId: 0, from: 40, to: 25 }]);
    expect(await storedPosition(id, 0)).toBe(25);
    // A resume with nothing to give back still raises the floor; never past the position, never down.
    await expect(store.advance(id, 0, 25, 50, { streamId: 's', run: 0 })).resolves.toBe(true);
    expect(await store.rewind(id, 's', new Map([[0, 50]]))).toEqual([]);
    expect(await streamColumns(id, 0)).toEqual({ stream_id: 's', stream_from: 50 });
    expect(await store.rewind(id, 's', new Map([[0, 60]]))).toEqual([]);
    expect(await streamColumns(id, 0)).toEqual({ stream_id: 's', stream_from: 50 });
  });

  it('raises a stream’s floor to what its client handed out, without moving the position', async () => {
    const store = new PositionStore(db, pool);
    const id = await consumerAt([10, 4]);
    await store.advance(id, 0, 10, 20, { streamId: 's', run: 0 });
    await store.advance(id, 1, 4, 9, { streamId: 's', run: 0 });
    await store.raiseFloor(id, 's', new Map([[0, 15]]));
    expect(await streamColumns(id, 0)).toEqual({ stream_id: 's', stream_from: 15 });
    // Not listed: kept. Never down, never past the position, never for another stream.
    expect(await streamColumns(id, 1)).toEqual({ stream_id: 's', stream_from: 4 });
    await store.raiseFloor(id, 's', new Map([[0, 12]]));
    expect(await streamColumns(id, 0)).toEqual({ stream_id: 's', stream_from: 15 });
    await store.raiseFloor(id, 's', new Map([[1, 50]]));
    expect(await streamColumns(id, 1)).toEqual({ stream_id: 's', stream_from: 9 });
    await store.raiseFloor(id, 'other', new Map([[0, 20]]));
    expect(await streamColumns(id, 0)).toEqual({ stream_id: 's', stream_from: 15 });
    expect(await storedPosition(id, 0)).toBe(20);
    expect(await storedPosition(id, 1)).toBe(9);
    // A later rewind stops at the raised floor (partition 1's floor is its position: nothing to give back).
    await expect(store.advance(id, 0, 20, 25, { streamId: 's', run: 0 })).resolves.toBe(true);
    expect(await store.rewind(id, 's', new Map())).toEqual([{ partitionId: 0, from: 25, to: 15 }]);
    expect(await storedPosition(id, 0)).toBe(15);
  });

  it('never moves a position forward, and does nothing for an unknown stream', async () => {
    const store = new PositionStore(db, pool);
    const id = await consumerAt([0, 0]);
    await store.advance(id, 0, 0, 5, { streamId: 's', run: 0 });
    expect(await store.rewind(id, 's', new Map([[0, 9]]))).toEqual([]);
    expect(await store.rewind(id, 's', new Map([[0, 5]]))).toEqual([]);
    expect(await store.rewind(id, 'other', new Map([[0, 0]]))).toEqual([]);
    expect(await storedPosition(id, 0)).toBe(5);
  });

  it('gives nothing back once another consumer instance delivered in between', async () => {
    const streamReplica = new PositionStore(db, pool);
    const otherReplica = new PositionStore(db, pool);
    const id = await consumerAt([0, 0]);
    await streamReplica.advance(id, 0, 0, 10, { streamId: 's', run: 0 });
    await streamReplica.advance(id, 1, 0, 10, { streamId: 's', run: 0 });
    // A Dequeue of the same consumer id moves partition 0 on; another stream moves partition 1.
    await otherReplica.advance(id, 0, 10, 12, { requestId: 'dequeue' });
    await otherReplica.advance(id, 1, 10, 11, { streamId: 'someone-else', run: 0 });

    expect(await streamReplica.rewind(id, 's', new Map())).toEqual([]);
    expect(await storedPosition(id, 0)).toBe(12);
    expect(await storedPosition(id, 1)).toBe(11);
    // The other stream's own deliveries are still its to give back.
    expect(await otherReplica.rewind(id, 'someone-else', new Map())).toEqual([{ partitionId: 1, from: 11, to: 10 }]);
  });

  it('a later run of a stream, started through any replica, fences off the earlier runs on every partition', async () => {
    const oldReplica = new PositionStore(db, pool);
    const newReplica = new PositionStore(db, pool);
    const id = await consumerAt([0, 0]);
    const first = await oldReplica.startRun(id, 's');
    await expect(oldReplica.advance(id, 0, 0, 5, { streamId: 's', run: first })).resolves.toBe(true);

    // The client reconnected through the other replica: a new run, then its rewind (nothing to give back here).
    const second = await newReplica.startRun(id, 's');
    expect(second).toBeGreaterThan(first);
    expect(await newReplica.rewind(id, 's', new Map([[0, 5]]))).toEqual([]);
    // The old run still believes it may deliver: on partition 0 where it had moved the position, and
    // on partition 1 where it never had. Both are refused: its client is gone, the delivery would be lost.
    await expect(oldReplica.advance(id, 0, 5, 9, { streamId: 's', run: first })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(oldReplica.advance(id, 1, 0, 4, { streamId: 's', run: first })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect([await storedPosition(id, 0), await storedPosition(id, 1)]).toEqual([5, 0]);

    // The new run delivers; another stream or a unary consume of the same consumer is not fenced.
    await expect(newReplica.advance(id, 0, 5, 9, { streamId: 's', run: second })).resolves.toBe(true);
    await expect(oldReplica.advance(id, 1, 0, 2, { streamId: 'other', run: 0 })).resolves.toBe(true);
    await expect(oldReplica.advance(id, 1, 2, 3, { requestId: '' })).resolves.toBe(true);
    // A plain compare-and-set miss of the current run is still just a miss.
    await expect(newReplica.advance(id, 0, 5, 10, { streamId: 's', run: second })).resolves.toBe(false);
    // Release takes a run too: after it, no run of the stream delivers.
    await newReplica.startRun(id, 's');
    await expect(newReplica.advance(id, 0, 9, 10, { streamId: 's', run: second })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('a run number stamped late never lowers the fence a later run set', async () => {
    const store = new PositionStore(db, pool);
    const id = await consumerAt([0, 0]);
    const stamped = (await store.startRun(id, 's')) + 1000;
    // As if a later run's stamp had committed before this one's.
    await db.updateTable('consumer_positions').set({ fence_run: stamped }).where('consumer_id', '=', id).execute();
    const late = await store.startRun(id, 's');
    expect(late).toBeLessThan(stamped);
    const rows = await db.selectFrom('consumer_positions').select('fence_run').where('consumer_id', '=', id).execute();
    expect(rows.map((r) => Number(r.fence_run))).toEqual([stamped, stamped]);
    await expect(store.advance(id, 0, 0, 1, { streamId: 's', run: late })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('makes a replica with a stale cache miss its compare-and-set after a rewind', async () => {
    const a = new PositionStore(db, pool);
    const b = new PositionStore(db, pool);
    const id = await consumerAt([0, 0]);
    await a.advance(id, 0, 0, 8, { streamId: 's', run: 0 });
    expect((await b.positionsOf(id)).get(0)).toBe(8);
    await a.rewind(id, 's', new Map([[0, 2]]));
    await expect(b.advance(id, 0, 8, 9)).resolves.toBe(false);
    expect((await b.positionsOf(id)).get(0)).toBe(2);
  });

  it('advances past the high watermark only with records read under the epoch the position was handed over at', async () => {
    const store = new PositionStore(db, pool);
    const movers = [{ requestId: '' }, { requestId: 'r-epoch' }, { streamId: 's-epoch', run: 0 }] as const;
    for (const by of movers) {
      const id = await consumerAt([3, 0]);
      // The manager handed partition 0 over at epoch 4 (its dead owner's records past the high watermark are gone).
      await db.updateTable('consumer_positions').set({ epoch: 4 }).where('consumer_id', '=', id).where('partition_id', '=', 0).execute();
      expect(await store.advance(id, 0, 3, 5, by, 3)).toBe(false);
      expect(await storedPosition(id, 0)).toBe(3);
      expect(await store.advance(id, 0, 3, 5, by, 4)).toBe(true);
      expect(await store.advance(id, 0, 5, 6, by, 5)).toBe(true);
      // Committed records (below the high watermark) are the same under any epoch.
      expect(await store.advance(id, 0, 6, 7, by)).toBe(true);
      expect(await storedPosition(id, 0)).toBe(7);
    }
  });
});
