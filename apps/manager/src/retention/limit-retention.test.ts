import { useMigratedDatabase } from '../../test/migrated-database.js';
import type { Database } from '@partq/schema';
import type { Kysely } from 'kysely';
import { judgeLimits, moveLimitedStarts } from './limit-retention.js';

const testDb = useMigratedDatabase();
const NOW = 1_764_000_000_000;

/** A retention pass's limits, judged and applied at once. */
async function applyLimitRetention(db: Kysely<Database>, options: { now: number; keepLast: number }) {
  return moveLimitedStarts(db, await judgeLimits(db, options));
}

/** A topic of one partition holding `rows` runs of ten records [10i, 10i+10), each `bytes` long and appended `agesMs[i]` before NOW. */
async function topicWithRows(name: string, limits: { retention_ms?: number; retention_bytes?: number }, agesMs: number[], bytes = 100) {
  const topic = await testDb.db
    .insertInto('topics')
    .values({ name, partition_count: 1, ...limits })
    .returning('id')
    .executeTakeFirstOrThrow();
  await testDb.db
    .insertInto('partitions')
    .values({ topic_id: topic.id, partition_id: 0, high_watermark: agesMs.length * 10, stored_bytes: agesMs.length * bytes })
    .execute();
  await testDb.db
    .insertInto('record_batches')
    .values(
      agesMs.map((age, i) => ({
        topic_id: topic.id,
        partition_id: 0,
        base_offset: i * 10,
        next_offset: i * 10 + 10,
        records: Buffer.alloc(bytes, i),
        sequences: Buffer.alloc(0),
        last_timestamp_ms: NOW - age,
      })),
    )
    .execute();
  // A consumer that read nothing: the limits do not wait for it.
  const consumer = await testDb.db.insertInto('consumers').values({ topic_id: topic.id }).returning('id').executeTakeFirstOrThrow();
  await testDb.db.insertInto('consumer_positions').values({ consumer_id: consumer.id, topic_id: topic.id, partition_id: 0, next_offset: 0 }).execute();
  return topic.id;
}

async function partitionOf(topicId: number) {
  const partition = await testDb.db
    .selectFrom('partitions')
    .select(['log_start_offset', 'stored_bytes'])
    .where('topic_id', '=', topicId)
    .executeTakeFirstOrThrow();
  const rows = await testDb.db.selectFrom('record_batches').select('base_offset').where('topic_id', '=', topicId).orderBy('base_offset').execute();
  return { ...partition, rows: rows.map((r) => r.base_offset) };
}

afterEach(async () => {
  await testDb.db.deleteFrom('consumer_positions').execute();
  await testDb.db.deleteFrom('consumers').execute();
  await testDb.db.deleteFrom('record_batches').execute();
  await testDb.db.deleteFrom('partitions').execute();
  await testDb.db.deleteFrom('topics').execute();
});

test('a time limit deletes the rows appended before the cutoff, from the oldest to the first younger one, consumed or not', async () => {
  const minute = 60_000;
  // The fourth row is older than the third (a clock stepped back): it stays, behind the younger third.
  const topicId = await topicWithRows('timed', { retention_ms: minute }, [5 * minute, 2 * minute, 30_000, 3 * minute, 1_000]);

  const result = await applyLimitRetention(testDb.db, { now: NOW, keepLast: 0 });
  expect(result.deleted).toBe(20);
  expect(result.partitions).toMatchObject([{ topic_id: topicId, partition_id: 0, log_start_offset: 20, stored_bytes: 300 }]);
  expect(await partitionOf(topicId)).toEqual({ log_start_offset: 20, stored_bytes: 300, rows: [20, 30, 40] });

  // Nothing more has aged: a second run moves nothing.
  expect(await applyLimitRetention(testDb.db, { now: NOW, keepLast: 0 })).toEqual({ partitions: [], deleted: 0 });
  // Everything aged: all goes.
  expect((await applyLimitRetention(testDb.db, { now: NOW + 10 * minute, keepLast: 0 })).deleted).toBe(30);
  expect(await partitionOf(topicId)).toEqual({ log_start_offset: 50, stored_bytes: 0, rows: [] });
});

test('a size limit deletes the oldest rows until the partition holds at most the limit', async () => {
  const topicId = await topicWithRows('sized', { retention_bytes: 250 }, [0, 0, 0, 0, 0, 0]);

  const result = await applyLimitRetention(testDb.db, { now: NOW, keepLast: 0 });
  expect(result.deleted).toBe(40);
  expect(await partitionOf(topicId)).toEqual({ log_start_offset: 40, stored_bytes: 200, rows: [40, 50] });
  expect(await applyLimitRetention(testDb.db, { now: NOW, keepLast: 0 })).toEqual({ partitions: [], deleted: 0 });
});

test('with both limits, the one that deletes more wins; the last keepLast records always stay', async () => {
  const sized = await topicWithRows('sized-more', { retention_ms: 1_000, retention_bytes: 250 }, [9_000, 0, 0, 0, 0, 0]);
  // Time alone would start at 10, size alone at 40.
  expect(await applyLimitRetention(testDb.db, { now: NOW, keepLast: 0 })).toMatchObject({ deleted: 40, partitions: [{ log_start_offset: 40 }] });
  expect(await partitionOf(sized)).toEqual({ log_start_offset: 40, stored_bytes: 200, rows: [40, 50] });

  const timed = await topicWithRows('timed-more', { retention_ms: 1_000, retention_bytes: 450 }, [9_000, 9_000, 9_000, 9_000, 9_000, 0]);
  // Time alone would start at 50, but the last 25 of the 60 records stay: the start is 35, and
  // the row [30, 40) across it stays whole.
  expect(await applyLimitRetention(testDb.db, { now: NOW, keepLast: 25 })).toMatchObject({ deleted: 30, partitions: [{ topic_id: timed, log_start_offset: 35 }] });
  expect(await partitionOf(timed)).toEqual({ log_start_offset: 35, stored_bytes: 300, rows: [30, 40, 50] });
});

test('leaves topics without limits alone, consumed or not', async () => {
  const topic = await topicWithRows('unlimited', {}, [9_000_000, 9_000_000]);
  expect(await applyLimitRetention(testDb.db, { now: NOW, keepLast: 0 })).toEqual({ partitions: [], deleted: 0 });
  expect(await partitionOf(topic)).toEqual({ log_start_offset: 0, stored_bytes: 200, rows: [0, 10] });
});

test('a start judged on limits changed since is not applied', async () => {
  const topicId = await topicWithRows('changed', { retention_ms: 1_000 }, [9_000, 9_000, 0]);
  const judged = await judgeLimits(testDb.db, { now: NOW, keepLast: 0 });
  expect(judged).toEqual([{ topic_id: topicId, partition_id: 0, log_start_offset: 20, retention_ms: 1_000, retention_bytes: null }]);
  // An operator removes the limit before the judgement is applied.
  await testDb.db.updateTable('topics').set({ retention_ms: null }).where('id', '=', topicId).execute();
  expect(await moveLimitedStarts(testDb.db, judged)).toEqual({ partitions: [], deleted: 0 });
  expect(await partitionOf(topicId)).toEqual({ log_start_offset: 0, stored_bytes: 300, rows: [0, 10, 20] });
});
