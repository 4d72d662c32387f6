import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, createTestDatabase, migrateToLatest } from '@partq/schema';
import { createLogger } from '@partq/runtime';
import { recoverLogs } from './recover-logs.js';
import { TransactionLog } from './transaction-log.js';

const logger = createLogger({ role: 'manager', instanceId: 'test', level: 'silent' });

describe('TransactionLog + recoverLogs', () => {
  let dir: string;
  let database: { url: string; drop(): Promise<void> };
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'partq-txlog-'));
    database = await createTestDatabase();
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await database.drop();
  });

  it('keeps finished events out of recovery', async () => {
    const log = await TransactionLog.open(dir, logger);
    await log.run({ kind: 'sync', brokerId: 1, partitions: [] }, async () => undefined);
    await log.close();
    const reopened = await TransactionLog.open(dir, logger);
    expect(reopened.pendingAtStart).toEqual([]);
    await reopened.close();
  });

  it('starts no new file per event: finished events stay in the active segment until it fills', async () => {
    const log = await TransactionLog.open(dir, logger);
    for (let i = 0; i < 50; i++) await log.run({ kind: 'sync', brokerId: 1, partitions: [{ topicId: 1, partitionId: 0, epoch: 1, to: i }] }, async () => undefined);
    await log.close();
    expect(readdirSync(join(dir)).filter((name) => name.endsWith('.log'))).toEqual(['00000000000000000000.log']);
    const reopened = await TransactionLog.open(dir, logger);
    expect(reopened.pendingAtStart).toEqual([]);
    await reopened.close();
  });

  it('runAlongside: the change starts while its event is written, and a failed write fails it', async () => {
    const log = await TransactionLog.open(dir, logger);
    let writeDone = false;
    const result = await log.runAlongside({ kind: 'sync', brokerId: 1, partitions: [] }, async (logged) => {
      void logged.then(() => (writeDone = true));
      const startedBeforeTheWrite = !writeDone;
      await logged;
      return { startedBeforeTheWrite, doneBeforeCommit: writeDone };
    });
    expect(result).toEqual({ startedBeforeTheWrite: true, doneBeforeCommit: true });

    // A change that throws stays pending for recovery, as with run.
    await expect(
      log.runAlongside({ kind: 'sync', brokerId: 2, partitions: [] }, async () => {
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    await log.close();
    const reopened = await TransactionLog.open(dir, logger);
    expect(reopened.pendingAtStart.map((p) => p.event)).toEqual([{ kind: 'sync', brokerId: 2, partitions: [] }]);

    // A log that cannot be written: the change sees the failure before it would commit.
    await reopened.close();
    let committed = false;
    await expect(
      reopened.runAlongside({ kind: 'sync', brokerId: 3, partitions: [] }, async (logged) => {
        await logged;
        committed = true;
      }),
    ).rejects.toBeDefined();
    expect(committed).toBe(false);
  });

  it('replays an unfinished topic creation once, idempotently', async () => {
    const log = await TransactionLog.open(dir, logger);
    // The process "dies" between LogEvent and the commit: the change throws before PostgreSQL saw it.
    await expect(
      log.run({ kind: 'create-topic', name: 'recovered', partitions: 2, acks: 'broker', owners: [null, null] }, async () => {
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    await log.close();

    const db = createDatabase(database.url);
    try {
      await migrateToLatest(db);
      const reopened = await TransactionLog.open(dir, logger);
      expect(reopened.pendingAtStart.map((p) => p.event.kind)).toEqual(['create-topic']);
      expect(await recoverLogs(db, reopened, logger)).toBe(1);
      await reopened.close();

      const again = await TransactionLog.open(dir, logger);
      expect(again.pendingAtStart).toEqual([]);
      expect(await recoverLogs(db, again, logger)).toBe(0);
      await again.close();

      const topics = await db.selectFrom('topics').select(['name', 'partition_count']).execute();
      expect(topics).toEqual([{ name: 'recovered', partition_count: 2 }]);
      expect(await db.selectFrom('partitions').select('partition_id').orderBy('partition_id').execute()).toEqual([{ partition_id: 0 }, { partition_id: 1 }]);
    } finally {
      await db.destroy();
    }
  });

  it('never moves an owner change backwards', async () => {
    const db = createDatabase(database.url);
    try {
      await migrateToLatest(db);
      const topic = await db.insertInto('topics').values({ name: 't', partition_count: 1 }).returning('id').executeTakeFirstOrThrow();
      await db.insertInto('partitions').values({ topic_id: topic.id, partition_id: 0, broker_id: null, epoch: 5 }).execute();
      const log = await TransactionLog.open(dir, logger);
      await log.logEvent({ kind: 'change-owners', changes: [{ topicId: topic.id, partitionId: 0, brokerId: null, epoch: 3 }] });
      await log.close();
      const reopened = await TransactionLog.open(dir, logger);
      await recoverLogs(db, reopened, logger);
      await reopened.close();
      expect((await db.selectFrom('partitions').select('epoch').executeTakeFirstOrThrow()).epoch).toBe(5);
    } finally {
      await db.destroy();
    }
  });
});
