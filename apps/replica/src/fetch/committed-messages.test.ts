import { createPool, createTestDatabase, databaseOn, migrateToLatest, type Database, type TestDatabase } from '@partq/schema';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { recordBatchRow } from '../../test/support/record-batch-row.js';
import { CommittedMessages } from './committed-messages.js';

let primaryDatabase: TestDatabase;
let standbyDatabase: TestDatabase;
let primaryPool: pg.Pool;
let standbyPool: pg.Pool;
let primary: Kysely<Database>;
let standby: Kysely<Database>;

beforeAll(async () => {
  [primaryDatabase, standbyDatabase] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  [primaryPool, standbyPool] = [createPool(primaryDatabase.url), createPool(standbyDatabase.url)];
  [primary, standby] = [databaseOn(primaryPool), databaseOn(standbyPool)];
  await Promise.all([migrateToLatest(primary), migrateToLatest(standby)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([primary?.destroy(), standby?.destroy()]);
  await Promise.all([primaryDatabase?.drop(), standbyDatabase?.drop()]);
});

/** Commits the payloads from offset `from` on, `perRow` records to a row (all in one by default). */
async function commit(db: Kysely<Database>, partitionId: number, from: number, payloads: string[], key?: string, perRow = payloads.length): Promise<void> {
  const rows = [];
  for (let at = 0; at < payloads.length; at += perRow) {
    const records = payloads.slice(at, at + perRow).map((payload, i) => ({ payload, key, timestampMs: 1_700_000_000_000 + at + i }));
    rows.push(recordBatchRow(1, partitionId, from + at, records));
  }
  await db.insertInto('record_batches').values(rows).execute();
}

const texts = (records: { payload: Uint8Array }[]) => records.map((r) => Buffer.from(r.payload).toString());

describe('CommittedMessages', () => {
  it('reads a partition in offset order from an offset, at most `limit` records', async () => {
    await commit(primary, 0, 0, ['a', 'b', 'c', 'd'], 'k');
    const reader = new CommittedMessages(primaryPool);
    const records = await reader.read(1, 0, 1, 2);
    expect(records.map((r) => r.offset)).toEqual([1, 2]);
    expect(texts(records)).toEqual(['b', 'c']);
    expect(Buffer.from(records[0]!.key!).toString()).toBe('k');
    expect(records[0]!.timestampMs).toBe(1_700_000_000_001);
    expect(await reader.read(1, 0, 4, 10)).toEqual([]);
  });

  it('reads the standby first, and the primary when the standby has nothing yet', async () => {
    await commit(primary, 1, 0, ['p0', 'p1', 'p2']);
    await commit(standby, 1, 0, ['s0', 's1']);
    const reader = new CommittedMessages(primaryPool, standbyPool);
    expect(texts(await reader.read(1, 1, 0, 10))).toEqual(['s0', 's1']);
    // The standby lags behind offset 2: the primary answers.
    expect(texts(await reader.read(1, 1, 2, 10))).toEqual(['p2']);
  });

  it('reads across runs from within one, and stops at `limit` within another', async () => {
    const payloads = Array.from({ length: 20 }, (_, i) => `r${i}`);
    await commit(primary, 2, 0, payloads, undefined, 6);
    const reader = new CommittedMessages(primaryPool);
    expect(texts(await reader.read(1, 2, 4, 9))).toEqual(payloads.slice(4, 13));
    expect((await reader.read(1, 2, 17, 100)).map((r) => r.offset)).toEqual([17, 18, 19]);
    expect(await reader.read(1, 2, 20, 100)).toEqual([]);
    expect(await reader.read(1, 2, 0, 0)).toEqual([]);
  });

  it('starts past `from` when retention deleted the runs holding it, however far past', async () => {
    // Runs of 5 from offset 100 on: offsets below 100 were deleted.
    await commit(primary, 3, 100, Array.from({ length: 15 }, (_, i) => `q${100 + i}`), undefined, 5);
    const reader = new CommittedMessages(primaryPool);
    expect((await reader.read(1, 3, 0, 4)).map((r) => r.offset)).toEqual([100, 101, 102, 103]);
    expect((await reader.read(1, 3, 98, 7)).map((r) => r.offset)).toEqual([100, 101, 102, 103, 104, 105, 106]);
    expect(await reader.read(1, 4, 0, 10)).toEqual([]);
  });

  it('reads no further than the stored batches that begin within `maxBytes`, but always the first', async () => {
    // Runs of 4 records of 100 bytes from offset 0 on: each stored batch is a little over 400 bytes.
    const payloads = Array.from({ length: 16 }, (_, i) => `${i}`.padStart(100, '.'));
    await commit(primary, 5, 0, payloads, undefined, 4);
    const reader = new CommittedMessages(primaryPool);
    expect((await reader.read(1, 5, 0, 16, 1)).map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    expect((await reader.read(1, 5, 2, 16, 1)).map((r) => r.offset)).toEqual([2, 3]);
    expect((await reader.read(1, 5, 2, 16, 500)).map((r) => r.offset)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(await reader.read(1, 5, 0, 16, 4096)).toHaveLength(16);
  });
});
