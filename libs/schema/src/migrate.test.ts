import { Migrator, NO_MIGRATIONS, sql, type Kysely } from 'kysely';
import { createDatabase } from './connection.js';
import type { Database } from './database.js';
import { migrateToLatest } from './migrate.js';
import { migrations } from './migrations/index.js';
import { createTestDatabase, type TestDatabase } from './provision.js';

jest.setTimeout(60_000);

const TABLES = [
  'brokers',
  'consumer_deliveries',
  'consumer_positions',
  'consumers',
  'health_checks',
  'partitions',
  'producers',
  'record_batches',
  'topics',
];

let testDb: TestDatabase;
const open: Kysely<Database>[] = [];

function connect(): Kysely<Database> {
  const db = createDatabase(testDb.url, { max: 2 });
  open.push(db);
  return db;
}

beforeEach(async () => {
  testDb = await createTestDatabase();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.destroy()));
  await testDb.drop();
});

async function tableNames(db: Kysely<Database>): Promise<string[]> {
  const tables = await db.introspection.getTables();
  return tables.map((table) => table.name).sort();
}

async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((row) => row.name);
}

test('creates every table on a fresh database', async () => {
  const db = connect();
  await migrateToLatest(db);
  expect(await tableNames(db)).toEqual(TABLES);
  expect(await appliedMigrations(db)).toEqual(Object.keys(migrations).sort());
});

test('is a no-op the second time', async () => {
  const db = connect();
  const pending: string[][] = [];
  expect(await migrateToLatest(db, { onPending: (names) => pending.push(names) })).toEqual(Object.keys(migrations).sort());
  expect(pending).toEqual([Object.keys(migrations).sort()]);
  await db.insertInto('topics').values({ name: 'orders', partition_count: 3 }).execute();
  expect(await migrateToLatest(db, { onPending: (names) => pending.push(names) })).toEqual([]);
  expect(pending).toHaveLength(1);
  expect(await appliedMigrations(db)).toEqual(Object.keys(migrations).sort());
  expect(await db.selectFrom('topics').select('name').execute()).toEqual([{ name: 'orders' }]);
});

test('applies each migration once when several connections migrate at the same time', async () => {
  // Separate pools, as separate processes would have; none may fail and nothing may run twice.
  await Promise.all([connect(), connect(), connect(), connect()].map((db) => migrateToLatest(db)));
  const db = connect();
  expect(await tableNames(db)).toEqual(TABLES);
  expect(await appliedMigrations(db)).toEqual(Object.keys(migrations).sort());
});

test('every migration can be undone and redone', async () => {
  const db = connect();
  await migrateToLatest(db);
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...migrations }) } });
  const down = await migrator.migrateTo(NO_MIGRATIONS);
  expect(down.error).toBeUndefined();
  expect(await tableNames(db)).toEqual([]);
  await migrateToLatest(db);
  expect(await tableNames(db)).toEqual(TABLES);
});

test('a failing migration surfaces as MIGRATION_FAILED', async () => {
  const db = connect();
  // A table in the way of the first migration makes it fail; the transaction leaves nothing behind.
  await sql`create table brokers (id integer)`.execute(db);
  await expect(migrateToLatest(db)).rejects.toMatchObject({
    code: 'MIGRATION_FAILED',
    message: expect.stringContaining('0001_metadata'),
  });
  expect(await tableNames(db)).toEqual(['brokers']);
});

test('a consumer position moves with a HOT update: no index holds next_offset, and its pages keep room', async () => {
  const db = connect();
  await migrateToLatest(db);
  const topic = await db.insertInto('topics').values({ name: 'hot', partition_count: 1 }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('partitions').values({ topic_id: topic.id, partition_id: 0, epoch: 1, high_watermark: 0 }).execute();
  const consumer = await db.insertInto('consumers').values({ topic_id: topic.id }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('consumer_positions').values({ consumer_id: consumer.id, topic_id: topic.id, partition_id: 0, next_offset: 0 }).execute();

  const hotUpdates = await db.transaction().execute(async (tx) => {
    // The replica's statement, as it commits positions before deliveries.
    for (let next = 1; next <= 20; next++) {
      await sql`UPDATE consumer_positions SET next_offset = ${next}, updated_at = now(), stream_id = 's', stream_from = ${next - 1}
                WHERE consumer_id = ${consumer.id} AND partition_id = 0 AND next_offset = ${next - 1} AND epoch <= 1`.execute(tx);
    }
    const { rows } = await sql<{ hot: string }>`SELECT pg_stat_get_xact_tuples_hot_updated('consumer_positions'::regclass) AS hot`.execute(tx);
    return Number(rows[0]!.hot);
  });
  expect(hotUpdates).toBe(20);

  const { rows: indexes } = await sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE tablename = 'consumer_positions' ORDER BY indexname`.execute(db);
  expect(indexes.map((row) => row.indexname)).toEqual(['consumer_positions_partition_idx', 'consumer_positions_pkey']);
  const { rows: options } = await sql<{ reloptions: string[] }>`SELECT reloptions FROM pg_class WHERE relname = 'consumer_positions'`.execute(db);
  expect(options[0]!.reloptions).toEqual(['fillfactor=50']);
});

test('0012 counts the bytes of the rows already stored, and dates them at the upgrade', async () => {
  const db = connect();
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...migrations }) } });
  expect((await migrator.migrateTo('0011_stream_fences')).error).toBeUndefined();
  const topic = await sql<{ id: number }>`INSERT INTO topics (name, partition_count) VALUES ('old', 2) RETURNING id`.execute(db);
  const topicId = topic.rows[0]!.id;
  await sql`INSERT INTO partitions (topic_id, partition_id, high_watermark) VALUES (${topicId}, 0, 3), (${topicId}, 1, 0)`.execute(db);
  await sql`INSERT INTO record_batches (topic_id, partition_id, base_offset, next_offset, records, sequences)
            VALUES (${topicId}, 0, 0, 2, ${Buffer.alloc(300)}, ''), (${topicId}, 0, 2, 3, ${Buffer.alloc(45)}, '')`.execute(db);
  const before = Date.now();

  await migrateToLatest(db);
  const partitions = await db.selectFrom('partitions').select(['partition_id', 'stored_bytes']).orderBy('partition_id').execute();
  expect(partitions).toEqual([
    { partition_id: 0, stored_bytes: 345 },
    { partition_id: 1, stored_bytes: 0 },
  ]);
  const rows = await db.selectFrom('record_batches').select('last_timestamp_ms').execute();
  for (const row of rows) expect(Math.abs(row.last_timestamp_ms - before)).toBeLessThan(60_000);
  // From here on a writer names the time: no default hides a forgotten one.
  await expect(
    db.insertInto('record_batches').values({ topic_id: topicId, partition_id: 1, base_offset: 0, next_offset: 1, records: Buffer.alloc(1), sequences: Buffer.alloc(0) } as never).execute(),
  ).rejects.toThrow(/last_timestamp_ms/);
});

test('0013 records the drains made before it as an operator\'s: they stay until an operator resumes them', async () => {
  const db = connect();
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...migrations }) } });
  expect((await migrator.migrateTo('0012_retention_limits')).error).toBeUndefined();
  await sql`INSERT INTO brokers (address, state) VALUES ('http://a', 'alive'), ('http://b', 'draining'), ('http://c', 'dead')`.execute(db);

  await migrateToLatest(db);
  const brokers = await db.selectFrom('brokers').select(['address', 'drain_reason']).orderBy('address').execute();
  expect(brokers).toEqual([
    { address: 'http://a', drain_reason: null },
    { address: 'http://b', drain_reason: 'operator' },
    { address: 'http://c', drain_reason: null },
  ]);
});
