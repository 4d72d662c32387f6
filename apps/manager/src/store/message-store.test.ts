import { create, toBinary } from '@bufbuild/protobuf';
import { decodeRecordBatch, indexRecordBatch, RecordBatchSchema, RecordSchema, type BatchRecord } from '@partq/proto';
import { createPool, databaseOn, RECORD_BATCH_ROW_BYTES } from '@partq/schema';
import { sql } from 'kysely';
import type pg from 'pg';
import { useMigratedDatabase } from '../../test/migrated-database.js';
import { MessageStore, type PartitionBatch } from './message-store.js';

const testDb = useMigratedDatabase();

type CommittedRecord = BatchRecord;

/** A copy in a buffer of its own (Buffer.from of a short string may share Node's pool). */
const own = (text: string) => new Uint8Array(Buffer.from(text));

/** The records as a broker's GetUpdates answer carries them: a RecordBatch, written by protobuf-es. */
function batchOf(topicId: number, partitionId: number, epoch: number, from: number, records: readonly CommittedRecord[]): PartitionBatch {
  const data = toBinary(
    RecordBatchSchema,
    create(RecordBatchSchema, {
      records: records.map((r) =>
        create(RecordSchema, {
          offset: BigInt(r.offset),
          payload: r.payload,
          key: r.key,
          producerId: r.producerId,
          sequence: r.sequence === undefined ? undefined : BigInt(r.sequence),
          timestampMs: BigInt(r.timestampMs),
        }),
      ),
    }),
  );
  return { topicId, partitionId, epoch, from, data, index: indexRecordBatch(data) };
}

/** A topic of one partition, empty, owned at `epoch`; its id. */
async function topicOfOnePartition(name: string, epoch = 1): Promise<number> {
  const topic = await testDb.db.insertInto('topics').values({ name, partition_count: 1 }).returning('id').executeTakeFirstOrThrow();
  await testDb.db.insertInto('partitions').values({ topic_id: topic.id, partition_id: 0, high_watermark: 0, epoch }).execute();
  return topic.id;
}

/** Runs `use` on a pool of one connection (for what a connection keeps: a transaction, prepared statements), ended after. */
async function onOneConnection(use: (pool: pg.Pool) => Promise<void>): Promise<void> {
  const pool = createPool(testDb.url, { max: 1 });
  try {
    await use(pool);
  } finally {
    await pool.end();
  }
}

/** The statements prepared on the connection `pool` holds, by name. */
async function preparedOn(pool: pg.Pool): Promise<string[]> {
  return (await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((row) => row.name);
}

/** The partition's stored rows, each checked to hold exactly the consecutive records [base_offset, next_offset). */
async function storedRows(topicId: number, partitionId = 0): Promise<{ base: number; next: number; bytes: number; records: CommittedRecord[] }[]> {
  const rows = await testDb.db
    .selectFrom('record_batches')
    .selectAll()
    .where('topic_id', '=', topicId)
    .where('partition_id', '=', partitionId)
    .orderBy('base_offset')
    .execute();
  return rows.map((row) => {
    const records = decodeRecordBatch(row.records);
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: row.next_offset - row.base_offset }, (_, i) => row.base_offset + i));
    expect(row.last_timestamp_ms).toBe(Math.max(...records.map((r) => r.timestampMs)));
    return { base: row.base_offset, next: row.next_offset, bytes: row.records.byteLength, records };
  });
}

/** The partition's `stored_bytes` counts exactly the record bytes of its rows. */
async function expectStoredBytesCounted(topicId: number, partitionId = 0): Promise<void> {
  const partition = await testDb.db
    .selectFrom('partitions')
    .select('stored_bytes')
    .where('topic_id', '=', topicId)
    .where('partition_id', '=', partitionId)
    .executeTakeFirstOrThrow();
  const rows = await storedRows(topicId, partitionId);
  expect(rows.length).toBeGreaterThan(0);
  expect(partition.stored_bytes).toBe(rows.reduce((sum, row) => sum + row.bytes, 0));
}

/** The partition's stored records are exactly `expected`, field by field, in offset order. */
async function expectStored(topicId: number, expected: readonly CommittedRecord[], partitionId = 0): Promise<void> {
  const stored = (await storedRows(topicId, partitionId)).flatMap((row) => row.records);
  expect(stored.map((r) => r.offset)).toEqual(expected.map((r) => r.offset));
  stored.forEach((record, i) => {
    const want = expected[i]!;
    expect(Buffer.from(record.payload).equals(Buffer.from(want.payload))).toBe(true);
    if (want.key === undefined) expect(record.key).toBeUndefined();
    else expect(Buffer.from(record.key!).equals(Buffer.from(want.key))).toBe(true);
    expect(record.producerId).toBe(want.producerId);
    expect(record.sequence).toBe(want.sequence);
    expect(record.timestampMs).toBe(want.timestampMs);
  });
}

/**
 * Every commit test runs both ways a sync commits: in one statement (small syncs; here any size)
 * and in a transaction with a COPY (large ones; here all).
 */
const COMMIT_WAYS = [
  { way: 'one', oneStatementBytes: Number.MAX_SAFE_INTEGER, statement: 'partq_manager_continue_high_watermarks' },
  { way: 'tx', oneStatementBytes: 0, statement: 'partq_manager_claim_high_watermarks' },
];

describe.each(COMMIT_WAYS)('MessageStore.commit ($way)', ({ way, oneStatementBytes, statement }) => {
  describe('stores', () => {
    test('stores every record exactly: payloads of any size, keys present, empty or absent, sequences', async () => {
      const topic = { id: await topicOfOnePartition(`store-${way}`) };
      const big = Buffer.alloc(70_000, 7);
      const records: CommittedRecord[] = [
        { offset: 0, payload: Buffer.from('first'), key: Buffer.from('k1'), producerId: 3, sequence: 0, timestampMs: 1_764_000_000_000 },
        { offset: 1, payload: new Uint8Array(0), key: undefined, producerId: 0, sequence: undefined, timestampMs: 1_764_000_000_001 },
        { offset: 2, payload: big, key: new Uint8Array(0), producerId: 3, sequence: 1, timestampMs: 1_764_000_000_002 },
        { offset: 3, payload: Buffer.from([0, 255, 92, 120]), key: Buffer.from([0, 1]), producerId: 4, sequence: 9, timestampMs: 1_764_000_000_003 },
      ];
      const store = new MessageStore(testDb.db, testDb.pool, { oneStatementBytes });
      const updated = await store.commit([batchOf(topic.id, 0, 1, 0, records)]);
      expect(updated.map((row) => row.high_watermark)).toEqual([4]);

      await expectStored(topic.id, records);
      await expectStoredBytesCounted(topic.id);

      // Replayed (a sync retried after a lost answer): nothing twice, nothing moves back.
      expect(await store.commit([batchOf(topic.id, 0, 1, 0, records)])).toEqual([]);
      expect((await storedRows(topic.id)).flatMap((row) => row.records)).toHaveLength(4);
      await expectStoredBytesCounted(topic.id);
    });
  });

  describe('with a transaction-log write alongside', () => {
    test('commits only once the write is done, and nothing when it failed', async () => {
      const topic = { id: await topicOfOnePartition(`alongside-${way}`) };
      const records: CommittedRecord[] = [{ offset: 0, payload: own('a'), key: undefined, producerId: 1, sequence: 0, timestampMs: 1_764_000_000_000 }];
      const store = new MessageStore(testDb.db, testDb.pool, { oneStatementBytes });

      const notWritten = new Error('the disk is full');
      await expect(store.commit([batchOf(topic.id, 0, 1, 0, records)], Promise.reject(notWritten))).rejects.toBe(notWritten);
      expect(await storedRows(topic.id)).toEqual([]);
      const untouched = await testDb.db.selectFrom('partitions').select(['high_watermark', 'stored_bytes']).where('topic_id', '=', topic.id).executeTakeFirstOrThrow();
      expect(untouched).toEqual({ high_watermark: 0, stored_bytes: 0 });

      let written!: () => void;
      const write = new Promise<void>((resolve) => (written = resolve));
      let settled = false;
      const committing = store.commit([batchOf(topic.id, 0, 1, 0, records)], write).finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(settled).toBe(false);
      expect(await storedRows(topic.id)).toEqual([]); // not visible before the write is done
      written();
      expect((await committing).map((row) => row.high_watermark)).toEqual([1]);
      await expectStored(topic.id, records);
    });
  });

  describe('mixed records', () => {
    test('stores mixed producers, sequences, keys and timestamps exactly', async () => {
      const topic = { id: await topicOfOnePartition(`runs-${way}`) };
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed % n;
      };
      // Views into one buffer (as decoded from a GetUpdates answer) and separate buffers both occur.
      const shared = Buffer.alloc(64 * 400);
      const records: CommittedRecord[] = [];
      const sequences = new Map<number, number>();
      for (let offset = 0; offset < 400; offset++) {
        const producerId = random(3) === 0 ? 0 : 1 + random(2);
        let sequence: number | undefined;
        if (producerId !== 0) {
          sequence = (sequences.get(producerId) ?? 0) + (random(6) === 0 ? 5 : 1);
          sequences.set(producerId, sequence);
        }
        const payload = random(2) === 0 ? shared.subarray(offset * 64, offset * 64 + random(60)).fill(offset & 255) : own(`p${offset}`);
        const keyKind = random(4);
        const key = keyKind === 0 ? undefined : keyKind === 1 ? new Uint8Array(0) : own(`k${offset % 7}`);
        records.push({ offset, payload, key, producerId, sequence, timestampMs: 1_764_000_000_000 + Math.floor(offset / 9) });
      }
      const store = new MessageStore(testDb.db, testDb.pool, { oneStatementBytes });
      // Two syncs; the second overlaps the first (a replayed stretch) and carries no keys at all.
      const first = records.slice(0, 250);
      const second = records.slice(200).map((r) => (r.offset >= 300 ? { ...r, key: undefined } : r));
      expect((await store.commit([batchOf(topic.id, 0, 1, 0, first)])).map((r) => r.high_watermark)).toEqual([250]);
      expect((await store.commit([batchOf(topic.id, 0, 1, 200, second)])).map((r) => r.high_watermark)).toEqual([400]);

      const stored = [...first, ...second.slice(50)];
      await expectStored(topic.id, stored);
      // The overlap (offsets 200-249) was counted once, and the row reporting the move says so too.
      await expectStoredBytesCounted(topic.id);
      // The rows' sequence runs give back every record's sequence: interleaved producers, jumps, none.
      const sequenced = stored.filter((r) => r.sequence !== undefined).map((r) => ({ producerId: r.producerId, sequence: r.sequence, offset: r.offset }));
      expect(await store.recentSequences(topic.id, 0, 400, 10_000)).toEqual(sequenced);
      expect(await store.recentSequences(topic.id, 0, 123, 7)).toEqual(sequenced.filter((r) => r.offset < 123).slice(-7));
    });
  });

  describe('a failed insert', () => {
    test('commits nothing of the sync, moves no high watermark, and leaves the pool usable', async () => {
      const topic = await testDb.db.insertInto('topics').values({ name: `failed-${way}`, partition_count: 2 }).returning('id').executeTakeFirstOrThrow();
      await testDb.db
        .insertInto('partitions')
        .values([0, 1].map((partition_id) => ({ topic_id: topic.id, partition_id, high_watermark: 0, epoch: 1 })))
        .execute();
      const record = (offset: number): CommittedRecord => ({ offset, payload: own(`m${offset}`), key: undefined, producerId: 1, sequence: offset, timestampMs: 1_764_000_000_000 });
      const batches = [0, 1].map((partitionId) => batchOf(topic.id, partitionId, 1, 0, [0, 1, 2].map(record)));
      // A row no sync put there (the store's invariant broken by hand): partition 1's COPY meets it.
      await testDb.db
        .insertInto('record_batches')
        .values({ topic_id: topic.id, partition_id: 1, base_offset: 0, next_offset: 1, records: batchOf(topic.id, 1, 1, 0, [record(0)]).data, sequences: Buffer.alloc(0), last_timestamp_ms: 1_764_000_000_000 })
        .execute();
      // One connection: a connection left inside the failed transaction would fail the next commit.
      await onOneConnection(async (pool) => {
        const store = new MessageStore(databaseOn(pool), pool, { oneStatementBytes });
        await expect(store.commit(batches)).rejects.toMatchObject({ code: '23505' });
        const partitions = await testDb.db.selectFrom('partitions').select('high_watermark').where('topic_id', '=', topic.id).execute();
        expect(partitions.map((p) => p.high_watermark)).toEqual([0, 0]);
        const stored = await testDb.db.selectFrom('record_batches').select(['partition_id', 'base_offset']).where('topic_id', '=', topic.id).execute();
        expect(stored).toEqual([{ partition_id: 1, base_offset: 0 }]);

        await testDb.db.deleteFrom('record_batches').where('topic_id', '=', topic.id).execute();
        expect((await store.commit(batches)).map((row) => row.high_watermark)).toEqual([3, 3]);
        await expectStored(topic.id, [0, 1, 2].map(record), 0);
        await expectStored(topic.id, [0, 1, 2].map(record), 1);
      });
    });
  });

  describe('its statement', () => {
    test('is prepared once per connection and reused by every later sync on it', async () => {
      const topic = { id: await topicOfOnePartition(`prepared-${way}`) };
      const record = (offset: number): CommittedRecord => ({ offset, payload: own(`m${offset}`), key: undefined, producerId: 1, sequence: offset, timestampMs: 1_764_000_000_000 });
      await onOneConnection(async (pool) => {
        const store = new MessageStore(databaseOn(pool), pool, { oneStatementBytes });
        for (let from = 0; from < 6; from += 2) {
          expect((await store.commit([batchOf(topic.id, 0, 1, from, [from, from + 1].map(record))])).map((row) => row.high_watermark)).toEqual([from + 2]);
        }
        expect(await preparedOn(pool)).toEqual([statement]);
        await expectStored(topic.id, [0, 1, 2, 3, 4, 5].map(record));
      });
    });
  });

  describe('overlapping batches', () => {
    test('a batch that repeats committed records inserts only the new ones; a fenced epoch inserts nothing', async () => {
      const topic = { id: await topicOfOnePartition(`overlap-${way}`, 2) };
      const record = (offset: number): CommittedRecord => ({ offset, payload: Buffer.from(`m${offset}`), key: undefined, producerId: 1, sequence: offset, timestampMs: 1_764_000_000_000 });
      const store = new MessageStore(testDb.db, testDb.pool, { oneStatementBytes });
      const batch = (from: number, to: number, epoch = 2) => batchOf(topic.id, 0, epoch, from, Array.from({ length: to - from }, (_, i) => record(from + i)));

      expect((await store.commit([batch(0, 4)])).map((r) => r.high_watermark)).toEqual([4]);
      // The manager's view was behind (a sync replayed from 2): offsets 2 and 3 are there already.
      expect((await store.commit([batch(2, 6)])).map((r) => r.high_watermark)).toEqual([6]);
      // An old owner's batch (epoch 1) is refused whole, and nothing moves.
      expect(await store.commit([batch(6, 8, 1)])).toEqual([]);
      // A batch that would leave a gap (from beyond the high watermark) is refused too.
      expect(await store.commit([batch(7, 9)])).toEqual([]);

      const stored = (await storedRows(topic.id)).flatMap((row) => row.records);
      expect(stored.map((r) => [r.offset, Buffer.from(r.payload).toString()])).toEqual([0, 1, 2, 3, 4, 5].map((o) => [o, `m${o}`]));
    });
  });

  describe('many partitions in one sync', () => {
    test('moves each partition on its own terms: fenced, committed already, a gap, an overlap, fresh', async () => {
      const topic = await testDb.db.insertInto('topics').values({ name: `many-${way}`, partition_count: 6 }).returning('id').executeTakeFirstOrThrow();
      const start = [
        { partition_id: 0, epoch: 2, high_watermark: 0 },
        { partition_id: 1, epoch: 3, high_watermark: 0 }, // the sync's owner (epoch 2) was fenced
        { partition_id: 2, epoch: 2, high_watermark: 5 }, // offsets 0..4 committed by an earlier sync
        { partition_id: 3, epoch: 2, high_watermark: 0 }, // the batch starts at 3: a gap
        { partition_id: 4, epoch: 2, high_watermark: 2 }, // the batch repeats 0 and 1
        { partition_id: 5, epoch: 2, high_watermark: 7 },
      ];
      await testDb.db.insertInto('partitions').values(start.map((p) => ({ topic_id: topic.id, ...p }))).execute();
      const record = (offset: number, partition: number): CommittedRecord => ({ offset, payload: own(`p${partition}m${offset}`), key: undefined, producerId: 0, sequence: undefined, timestampMs: 1_764_000_000_000 });
      const batch = (partitionId: number, from: number, to: number) => batchOf(topic.id, partitionId, 2, from, Array.from({ length: to - from }, (_, i) => record(from + i, partitionId)));
      const store = new MessageStore(testDb.db, testDb.pool, { oneStatementBytes });
      const sync = [batch(5, 7, 9), batch(0, 0, 3), batch(1, 0, 2), batch(2, 0, 5), batch(3, 3, 4), batch(4, 0, 6)];
      const moved = await store.commit(sync);
      // Only what moved, in the sync's order.
      expect(moved.map((row) => [row.partition_id, row.high_watermark])).toEqual([
        [5, 9],
        [0, 3],
        [4, 6],
      ]);
      const partitions = await testDb.db.selectFrom('partitions').select(['partition_id', 'high_watermark']).where('topic_id', '=', topic.id).orderBy('partition_id').execute();
      expect(partitions.map((p) => p.high_watermark)).toEqual([3, 0, 5, 0, 6, 9]);
      await expectStored(topic.id, [0, 1, 2].map((o) => record(o, 0)), 0);
      await expectStored(topic.id, [], 1);
      await expectStored(topic.id, [], 3);
      await expectStored(topic.id, [2, 3, 4, 5].map((o) => record(o, 4)), 4);
      await expectStored(topic.id, [7, 8].map((o) => record(o, 5)), 5);

      await expect(store.commit([batch(0, 3, 4), batch(0, 3, 4)])).rejects.toThrow(RangeError);
    });
  });

  describe('rows', () => {
    test('cuts a sync into rows of consecutive records of at most RECORD_BATCH_ROW_BYTES; a larger record is a row of its own', async () => {
      const topic = { id: await topicOfOnePartition(`rows-${way}`) };
      const record = (offset: number, bytes: number): CommittedRecord => ({ offset, payload: Buffer.alloc(bytes, offset), key: undefined, producerId: 0, sequence: undefined, timestampMs: 1_764_000_000_000 });
      const records = [...Array.from({ length: 30 }, (_, i) => record(i, 1000)), record(30, 20_000), ...Array.from({ length: 200 }, (_, i) => record(31 + i, 100))];
      const store = new MessageStore(testDb.db, testDb.pool, { oneStatementBytes });
      await store.commit([batchOf(topic.id, 0, 1, 0, records)]);

      const rows = await storedRows(topic.id);
      await expectStored(topic.id, records);
      expect(rows.find((row) => row.base === 30)).toMatchObject({ next: 31 });
      for (const row of rows) {
        if (row.base !== 30) expect(row.bytes).toBeLessThanOrEqual(RECORD_BATCH_ROW_BYTES);
      }
      // Full rows, bar the last of each stretch: 1 000 B records (~1 015 B framed) 7 to a row, 100 B ones 70.
      expect(rows.map((row) => row.next - row.base)).toEqual([7, 7, 7, 7, 2, 1, 70, 70, 60]);
    });
  });
});

describe('MessageStore.commit, by default', () => {
  test('commits a small sync in one statement and one of over 16 KiB in a transaction', async () => {
    const topic = { id: await topicOfOnePartition('default-way') };
    const record = (offset: number, bytes: number): CommittedRecord => ({ offset, payload: Buffer.alloc(bytes, offset), key: undefined, producerId: 0, sequence: undefined, timestampMs: 1_764_000_000_000 });
    await onOneConnection(async (pool) => {
      const store = new MessageStore(databaseOn(pool), pool);
      await store.commit([batchOf(topic.id, 0, 1, 0, [record(0, 15 * 1024)])]);
      expect(await preparedOn(pool)).toEqual(['partq_manager_continue_high_watermarks']);
      await store.commit([batchOf(topic.id, 0, 1, 1, [record(1, 17 * 1024)])]);
      expect(await preparedOn(pool)).toEqual(['partq_manager_claim_high_watermarks', 'partq_manager_continue_high_watermarks']);
      await expectStored(topic.id, [record(0, 15 * 1024), record(1, 17 * 1024)]);
    });
  });
});

describe('MessageStore.recentSequences', () => {
  test('gives the newest committed sequences below an offset, oldest first, skipping records without one', async () => {
    const topic = { id: await topicOfOnePartition('sequences') };
    const records: CommittedRecord[] = Array.from({ length: 20 }, (_, offset) => ({
      offset,
      payload: Buffer.from(`m${offset}`),
      key: undefined,
      // Every third record comes from a producer without sequences.
      producerId: offset % 3 === 0 ? 0 : 1 + (offset % 2),
      sequence: offset % 3 === 0 ? undefined : offset * 10,
      timestampMs: 1_764_000_000_000 + offset,
    }));
    const store = new MessageStore(testDb.db, testDb.pool);
    await store.commit([batchOf(topic.id, 0, 1, 0, records)]);

    expect(await store.recentSequences(topic.id, 0, 15, 4)).toEqual([
      { producerId: 1, sequence: 100, offset: 10 },
      { producerId: 2, sequence: 110, offset: 11 },
      { producerId: 2, sequence: 130, offset: 13 },
      { producerId: 1, sequence: 140, offset: 14 },
    ]);
  });

  test('reads as many rows as it takes, a page at a time, and stops at the oldest', async () => {
    const topic = { id: await topicOfOnePartition('many-rows') };
    // 3 KiB records: two to a row, so 600 records take 300 rows, several pages of the scan.
    const records: CommittedRecord[] = Array.from({ length: 600 }, (_, offset) => ({
      offset,
      payload: Buffer.alloc(3 * 1024, offset & 255),
      key: undefined,
      producerId: 7,
      sequence: offset % 50 === 0 ? undefined : offset,
      timestampMs: 1_764_000_000_000,
    }));
    const store = new MessageStore(testDb.db, testDb.pool);
    await store.commit([batchOf(topic.id, 0, 1, 0, records)]);
    expect((await storedRows(topic.id)).length).toBe(300);

    const withSequence = records.filter((r) => r.sequence !== undefined).map((r) => ({ producerId: 7, sequence: r.sequence, offset: r.offset }));
    // Below 501: 500 records, 10 of them without a sequence.
    expect(await store.recentSequences(topic.id, 0, 501, 400)).toEqual(withSequence.filter((r) => r.offset < 501).slice(-400));
    expect(await store.recentSequences(topic.id, 0, 501, 10_000)).toEqual(withSequence.filter((r) => r.offset < 501));
    expect(await store.recentSequences(topic.id, 0, 0, 10)).toEqual([]);
  });

  test('as runs: one for each run of a producer\'s consecutive sequences at consecutive offsets, cut at the offset and the limit', async () => {
    const topic = { id: await topicOfOnePartition('sequence-runs') };
    // Producer 3 at offsets 0-9 (sequences 50-59), a record without one at 10, producer 4 at 11-29
    // (sequences 0-18), producer 3 again at 30-39 (sequences 60-69).
    const records: CommittedRecord[] = Array.from({ length: 40 }, (_, offset) => ({
      offset,
      payload: Buffer.from(`r${offset}`),
      key: undefined,
      producerId: offset === 10 ? 0 : offset < 10 || offset >= 30 ? 3 : 4,
      sequence: offset === 10 ? undefined : offset < 10 ? 50 + offset : offset < 30 ? offset - 11 : 30 + offset,
      timestampMs: 1_764_000_000_000,
    }));
    const store = new MessageStore(testDb.db, testDb.pool);
    await store.commit([batchOf(topic.id, 0, 1, 0, records)]);

    expect(await store.recentSequenceRuns(topic.id, 0, 40, 10_000)).toEqual([
      { producerId: 3, firstSequence: 50, firstOffset: 0, count: 10 },
      { producerId: 4, firstSequence: 0, firstOffset: 11, count: 19 },
      { producerId: 3, firstSequence: 60, firstOffset: 30, count: 10 },
    ]);
    // Below 35, the newest 12: producer 4's last 7, producer 3's first 5 of its second run.
    expect(await store.recentSequenceRuns(topic.id, 0, 35, 12)).toEqual([
      { producerId: 4, firstSequence: 12, firstOffset: 23, count: 7 },
      { producerId: 3, firstSequence: 60, firstOffset: 30, count: 5 },
    ]);
    // The same sequences recentSequences gives one by one.
    const expanded = (await store.recentSequenceRuns(topic.id, 0, 35, 12)).flatMap((run) =>
      Array.from({ length: run.count }, (_, i) => ({ producerId: run.producerId, sequence: run.firstSequence + i, offset: run.firstOffset + i })),
    );
    expect(await store.recentSequences(topic.id, 0, 35, 12)).toEqual(expanded);
  });
});

describe('record_batches', () => {
  test('record_batches carries only its primary key index, and keeps rows on their heap page uncompressed', async () => {
    const { rows } = await sql<{ indexname: string }>`select indexname from pg_indexes where tablename = 'record_batches' order by indexname`.execute(testDb.db);
    expect(rows.map((row) => row.indexname)).toEqual(['record_batches_pkey']);
    const { rows: options } = await sql<{ reloptions: string[] }>`SELECT reloptions FROM pg_class WHERE relname = 'record_batches'`.execute(testDb.db);
    expect(options[0]!.reloptions).toEqual(['toast_tuple_target=8160']);
    const { rows: storage } = await sql<{ attstorage: string }>`
      SELECT attstorage FROM pg_attribute WHERE attrelid = 'record_batches'::regclass AND attname = 'records'`.execute(testDb.db);
    expect(storage[0]!.attstorage).toBe('e');
  });
});
