import { sql, type Kysely } from 'kysely';
import { createDatabase, createPool } from './connection.js';
import type { Database } from './database.js';
import { SchemaError } from './errors.js';
import { migrateToLatest } from './migrate.js';
import { createTestDatabase, type TestDatabase } from './provision.js';

jest.setTimeout(60_000);

let testDb: TestDatabase;
let db: Kysely<Database>;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = createDatabase(testDb.url, { max: 3, applicationName: 'partq-schema-test' });
  await migrateToLatest(db);
});

afterAll(async () => {
  await db?.destroy();
  await testDb?.drop();
});

async function newTopic(name: string, partitionCount = 1): Promise<number> {
  const { id } = await db
    .insertInto('topics')
    .values({ name, partition_count: partitionCount })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('partitions')
    .values(Array.from({ length: partitionCount }, (_, partition_id) => ({ topic_id: id, partition_id })))
    .execute();
  return id;
}

test('names its connections after the application', async () => {
  const { rows } = await sql<{ name: string }>`
    select application_name as name from pg_stat_activity where pid = pg_backend_pid()`.execute(db);
  expect(rows).toEqual([{ name: 'partq-schema-test' }]);
});

describe('bytea', () => {
  test('round-trips arbitrary bytes exactly: NUL, every byte value, invalid UTF-8', async () => {
    const topicId = await newTopic('bytes');
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const invalidUtf8 = Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xff, 0xfe]);
    const payloads = [everyByte, invalidUtf8, Buffer.from([0, 0, 0]), Buffer.alloc(0), new Uint8Array([1, 0, 255])];
    await db
      .insertInto('record_batches')
      .values(payloads.map((records, offset) => ({ topic_id: topicId, partition_id: 0, base_offset: offset, next_offset: offset + 1, records, sequences: Buffer.alloc(0), last_timestamp_ms: 1_764_000_000_000 })))
      .execute();

    const rows = await db.selectFrom('record_batches').select(['base_offset', 'records']).where('topic_id', '=', topicId).orderBy('base_offset').execute();
    expect(rows.map((row) => row.records)).toEqual(payloads.map((payload) => Buffer.from(payload)));
    expect(rows.every((row) => Buffer.isBuffer(row.records))).toBe(true);
    const { rows: lengths } = await sql<{ length: number }>`
      select octet_length(records) as length from record_batches where topic_id = ${topicId} order by base_offset`.execute(db);
    expect(lengths.map((row) => row.length)).toEqual(payloads.map((payload) => payload.length));
  });
});

describe('bigint', () => {
  test('reads as a number, exactly up to 2^53 - 1', async () => {
    const topicId = await newTopic('big-offsets');
    const highest = Number.MAX_SAFE_INTEGER;
    await db
      .updateTable('partitions')
      .set({ log_start_offset: highest - 1, high_watermark: highest })
      .where('topic_id', '=', topicId)
      .execute();
    const partition = await db
      .selectFrom('partitions')
      .selectAll()
      .where('topic_id', '=', topicId)
      .executeTakeFirstOrThrow();
    expect(partition.high_watermark).toBe(highest);
    expect(partition.log_start_offset).toBe(highest - 1);

    const counted = await db
      .selectFrom('partitions')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('topic_id', '=', topicId)
      .executeTakeFirstOrThrow();
    expect(counted.count).toBe(1);

    const { rows } = await sql<{ offsets: number[] }>`select array[1, 2, null, 3]::bigint[] as offsets`.execute(db);
    expect(rows[0]?.offsets).toEqual([1, 2, null, 3]);
  });

  test('refuses a value beyond 2^53 - 1 instead of rounding it, and the pool stays usable', async () => {
    const query = sql<{ value: number }>`select 9007199254740993::bigint as value`.execute(db);
    await expect(query).rejects.toBeInstanceOf(SchemaError);
    await expect(query).rejects.toMatchObject({ code: 'INT8_OUT_OF_RANGE' });
    const { rows } = await sql<{ value: number }>`select 42::bigint as value`.execute(db);
    expect(rows).toEqual([{ value: 42 }]);
  });
});

describe('tables', () => {
  test('fill in ids and defaults', async () => {
    const topic = await db
      .insertInto('topics')
      .values({ name: 'defaults.topic_1', partition_count: 2 })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(topic).toMatchObject({ default_acks: 'broker', retention_ms: null, retention_bytes: null });
    expect(typeof topic.id).toBe('number');
    expect(topic.created_at).toBeInstanceOf(Date);

    const broker = await db
      .insertInto('brokers')
      .values({ address: 'http://10.0.0.1:7001' })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(broker.state).toBe('alive');
    expect(broker.last_heartbeat_at).toBeInstanceOf(Date);

    const partition = await db
      .insertInto('partitions')
      .values({ topic_id: topic.id, partition_id: 0, broker_id: broker.id })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(partition).toEqual({
      topic_id: topic.id,
      partition_id: 0,
      broker_id: broker.id,
      epoch: 0,
      log_start_offset: 0,
      high_watermark: 0,
      stored_bytes: 0,
    });
  });

  test('reject invalid topic names, unknown enum values and offsets out of order', async () => {
    await expect(db.insertInto('topics').values({ name: 'no spaces', partition_count: 1 }).execute()).rejects.toThrow(
      /topics_name_valid/,
    );
    const tooLong = 'x'.repeat(250);
    await expect(db.insertInto('topics').values({ name: tooLong, partition_count: 1 }).execute()).rejects.toThrow(
      /topics_name_valid/,
    );
    await expect(
      sql`insert into brokers (address, state) values ('http://b', 'sleeping')`.execute(db),
    ).rejects.toThrow(/brokers_state_known/);
    const topicId = await newTopic('ordered');
    await expect(
      db.updateTable('partitions').set({ log_start_offset: 5 }).where('topic_id', '=', topicId).execute(),
    ).rejects.toThrow(/partitions_offsets_ordered/);
  });

  test('keep consumers and positions tied to existing partitions', async () => {
    const topicId = await newTopic('positions', 2);
    const consumer = await db
      .insertInto('consumers')
      .values({ topic_id: topicId })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('consumer_positions')
      .values([
        { consumer_id: consumer.id, topic_id: topicId, partition_id: 0, next_offset: 7 },
        { consumer_id: consumer.id, topic_id: topicId, partition_id: 1, next_offset: 3 },
      ])
      .execute();
    await expect(
      db
        .insertInto('consumer_positions')
        .values({ consumer_id: consumer.id, topic_id: topicId, partition_id: 9, next_offset: 0 })
        .execute(),
    ).rejects.toThrow(/consumer_positions_partition_fkey/);

    const lowest = await db
      .selectFrom('consumer_positions')
      .select((eb) => eb.fn.min('next_offset').as('lowest'))
      .where('topic_id', '=', topicId)
      .executeTakeFirstOrThrow();
    expect(lowest.lowest).toBe(3);

    await db.deleteFrom('consumers').where('id', '=', consumer.id).execute();
    expect(await db.selectFrom('consumer_positions').selectAll().where('topic_id', '=', topicId).execute()).toEqual([]);
  });

  test('store health-check detail as JSON', async () => {
    await db
      .insertInto('health_checks')
      .values({ kind: 'broker', entity_id: 1, status: 'alive', detail: { partitions: [0, 1], lagMs: 12 } })
      .execute();
    const row = await db
      .selectFrom('health_checks')
      .selectAll()
      .where('kind', '=', 'broker')
      .where('entity_id', '=', 1)
      .executeTakeFirstOrThrow();
    expect(row.detail).toEqual({ partitions: [0, 1], lagMs: 12 });
    expect(row.last_seen_at).toBeInstanceOf(Date);
  });

  test('require a run of records to hold at least one, at a non-negative offset', async () => {
    const topicId = await newTopic('runs');
    const run = (base_offset: number, next_offset: number) => ({ topic_id: topicId, partition_id: 0, base_offset, next_offset, records: Buffer.from('x'), sequences: Buffer.alloc(0), last_timestamp_ms: 1_764_000_000_000 });
    await expect(db.insertInto('record_batches').values(run(5, 5)).execute()).rejects.toThrow(/record_batches_offsets/);
    await expect(db.insertInto('record_batches').values(run(-1, 1)).execute()).rejects.toThrow(/record_batches_offsets/);
  });
});

describe('a connection the server ends', () => {
  // A restart of PostgreSQL (its WAL disk full, a crash) ends every connection, those checked out
  // of the pool too. pg emits 'error' on such a client, and pg-pool listens only while it is idle:
  // unheard, the error crashed the role that held it.
  test('while checked out, between statements, it is reported and the pool goes on with a fresh one', async () => {
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message), info: () => undefined, error: () => undefined, debug: () => undefined };
    const pool = createPool(testDb.url, { max: 1, logger });
    try {
      const held = await pool.connect();
      const { rows } = await held.query<{ pid: number }>('select pg_backend_pid() as pid');
      await db.executeQuery(sql`select pg_terminate_backend(${rows[0]!.pid})`.compile(db));
      // The client learns of it from its socket; anything thrown on the way fails this suite.
      await waitUntil(() => warnings.length > 0);
      expect(warnings[0]).toMatch(/PostgreSQL connection failed: terminating connection due to administrator command/);
      held.release(true);
      expect((await pool.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
