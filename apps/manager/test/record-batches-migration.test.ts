import { decodeRecordBatch } from '@partq/proto';
import { createPool, createTestDatabase, databaseOn, migrateToLatest, migrations, type Database, type TestDatabase } from '@partq/schema';
import { Migrator, sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { MessageStore } from '../src/store/message-store.js';

// Migration 0010 turns each row of `messages` into a one-record run of record_batches, encoded in
// SQL: here the manager's own decoder reads the result back.

let database: TestDatabase;
let pool: pg.Pool;
let db: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  db = databaseOn(pool);
}, 60_000);

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

test('keeps every committed record of an older database, field by field', async () => {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...migrations }) } });
  expect((await migrator.migrateTo('0009_hot_position_updates')).error).toBeUndefined();
  const appendedAt = new Date(1_764_000_123_456);
  const big = Buffer.alloc(20_000, 3);
  const old = [
    { offset: 0, payload: Buffer.from('first'), key: Buffer.from('k'), producer_id: 3, sequence: 0 },
    { offset: 1, payload: Buffer.alloc(0), key: null, producer_id: null, sequence: null },
    { offset: 2, payload: big, key: Buffer.alloc(0), producer_id: 300, sequence: 2 ** 40 },
    { offset: 2 ** 35, payload: Buffer.from([0, 255, 128]), key: null, producer_id: 2 ** 31 - 1, sequence: 127 },
  ];
  await sql`INSERT INTO messages (topic_id, partition_id, "offset", payload, key, producer_id, sequence, appended_at)
            SELECT * FROM unnest(${old.map(() => 7)}::int4[], ${old.map(() => 0)}::int4[], ${old.map((m) => m.offset)}::int8[],
                                 ${old.map((m) => m.payload)}::bytea[], ${old.map((m) => m.key)}::bytea[], ${old.map((m) => m.producer_id)}::int4[],
                                 ${old.map((m) => m.sequence)}::int8[], ${old.map(() => appendedAt)}::timestamptz[])`.execute(db);

  await migrateToLatest(db);

  const rows = await db.selectFrom('record_batches').selectAll().orderBy('base_offset').execute();
  expect(rows.map((row) => [row.topic_id, row.partition_id, row.base_offset, row.next_offset])).toEqual(old.map((m) => [7, 0, m.offset, m.offset + 1]));
  const records = rows.flatMap((row) => decodeRecordBatch(row.records));
  expect(records).toEqual(
    old.map((m) => ({
      offset: m.offset,
      payload: new Uint8Array(m.payload),
      key: m.key === null ? undefined : new Uint8Array(m.key),
      producerId: m.producer_id ?? 0,
      sequence: m.sequence ?? undefined,
      timestampMs: appendedAt.getTime(),
    })),
  );
  // A broker taking the partition over still finds the producers' sequences.
  expect(await new MessageStore(db, pool).recentSequences(7, 0, 2 ** 36, 10)).toEqual([
    { producerId: 3, sequence: 0, offset: 0 },
    { producerId: 300, sequence: 2 ** 40, offset: 2 },
    { producerId: 2 ** 31 - 1, sequence: 127, offset: 2 ** 35 },
  ]);
  expect(await sql`SELECT 1 FROM pg_proc WHERE proname LIKE 'partq_0010%'`.execute(db)).toMatchObject({ rows: [] });

  // Undoing it would drop those records: refused.
  const undo = await migrator.migrateTo('0009_hot_position_updates');
  expect(undo.error).toMatchObject({ code: 'MIGRATION_IRREVERSIBLE' });
  expect(await db.selectFrom('record_batches').select('base_offset').execute()).toHaveLength(4);
});
