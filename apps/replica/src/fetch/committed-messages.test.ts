import { createDatabase, createTestDatabase, migrateToLatest, type Database, type TestDatabase } from '@partq/schema';
import type { Kysely } from 'kysely';
import { CommittedMessages } from './committed-messages.js';

let primaryDatabase: TestDatabase;
let standbyDatabase: TestDatabase;
let primary: Kysely<Database>;
let standby: Kysely<Database>;

beforeAll(async () => {
  [primaryDatabase, standbyDatabase] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  primary = createDatabase(primaryDatabase.url);
  standby = createDatabase(standbyDatabase.url);
  await Promise.all([migrateToLatest(primary), migrateToLatest(standby)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([primary?.destroy(), standby?.destroy()]);
  await Promise.all([primaryDatabase?.drop(), standbyDatabase?.drop()]);
});

async function commit(db: Kysely<Database>, partitionId: number, from: number, payloads: string[], key?: string): Promise<void> {
  await db
    .insertInto('messages')
    .values(
      payloads.map((payload, i) => ({
        topic_id: 1,
        partition_id: partitionId,
        offset: from + i,
        payload: Buffer.from(payload),
        key: key === undefined ? null : Buffer.from(key),
        appended_at: new Date(1_700_000_000_000 + i),
      })),
    )
    .execute();
}

const texts = (records: { payload: Uint8Array }[]) => records.map((r) => Buffer.from(r.payload).toString());

describe('CommittedMessages', () => {
  it('reads a partition in offset order from an offset, at most `limit` records', async () => {
    await commit(primary, 0, 0, ['a', 'b', 'c', 'd'], 'k');
    const reader = new CommittedMessages(primary);
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
    const reader = new CommittedMessages(primary, standby);
    expect(texts(await reader.read(1, 1, 0, 10))).toEqual(['s0', 's1']);
    // The standby lags behind offset 2: the primary answers.
    expect(texts(await reader.read(1, 1, 2, 10))).toEqual(['p2']);
  });
});
