import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { AppendRecordSchema } from '@partq/proto';
import { createLogger, PartqError } from '@partq/runtime';
import { PartitionStore, type PartitionStoreOptions, type StoreAssignment } from './partition-store.js';

const logger = createLogger({ role: 'broker-test', instanceId: 'partition-store', level: 'silent' });

function records(count: number) {
  return Array.from({ length: count }, (_, i) => create(AppendRecordSchema, { payload: new Uint8Array([i]) }));
}

function assignment(topicId: number, partitionId: number, epoch: number, startOffset = 0, highWatermark = startOffset): StoreAssignment {
  return { topicId, partitionId, epoch, startOffset, highWatermark };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('PartitionStore', () => {
  let dataDir: string;
  let options: PartitionStoreOptions;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'partq-broker-store-'));
    options = { dataDir, segmentBytes: 1 << 20, fsync: false, cacheBytes: 1 << 16, logger };
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates assigned partitions at their start offset and answers NOT_OWNER for others', async () => {
    const store = await PartitionStore.open(options);
    const report = await store.reconcile([assignment(1, 0, 1, 25), assignment(1, 1, 1)], false);
    expect(report.created.sort()).toEqual(['1/0', '1/1']);
    expect(store.require(1, 0).endOffset).toBe(25);
    expect(() => store.require(2, 0)).toThrow(PartqError);
    expect(store.endOffsets()).toEqual(
      expect.arrayContaining([
        { topicId: 1, partitionId: 0, offset: 25 },
        { topicId: 1, partitionId: 1, offset: 0 },
      ]),
    );
    await store.close();
  });

  it('creates the new partitions of one assignment three at a time, reporting them in its order', async () => {
    // Each creation asks for the partition's committed sequences: held here until 3 ask at once,
    // which one creation after another would never reach.
    let asking = 0;
    let most = 0;
    let releaseAll!: () => void;
    const allAsked = new Promise<void>((resolve) => (releaseAll = resolve));
    const store = await PartitionStore.open({
      ...options,
      committedSequences: async () => {
        most = Math.max(most, ++asking);
        if (asking === 3) releaseAll();
        await allAsked;
        asking--;
        return [];
      },
    });
    const partitions = Array.from({ length: 12 }, (_, p) => assignment(1, 11 - p, 1, 5));
    const report = await store.reconcile(partitions, false);
    expect(report.created).toEqual(partitions.map((a) => `1/${a.partitionId}`));
    expect(most).toBe(3);
    for (const a of partitions) expect(store.require(1, a.partitionId).endOffset).toBe(5);
    await store.close();
  });

  it('applies two assignments of one partition in one reconcile in their order', async () => {
    const store = await PartitionStore.open(options);
    await store.reconcile([assignment(1, 0, 1)], false);
    await store.require(1, 0).append(1, records(4), 0);
    const report = await store.reconcile([assignment(1, 0, 2, 2), assignment(1, 0, 1), assignment(1, 1, 1)], false);
    // The newer epoch cuts the log at 2; the older one after it is stale.
    expect(report).toMatchObject({ truncated: ['1/0'], ignored: ['1/0'], created: ['1/1'] });
    expect(store.require(1, 0).endOffset).toBe(2);
    await store.close();
  });

  it('a complete assignment closes and deletes the partitions it does not list', async () => {
    const store = await PartitionStore.open(options);
    await store.reconcile([assignment(1, 0, 1), assignment(1, 1, 1)], false);
    await store.require(1, 1).append(1, records(3), 0);
    const report = await store.reconcile([assignment(1, 0, 1)], true);
    expect(report.removed).toEqual(['1/1']);
    expect(store.get(1, 1)).toBeUndefined();
    expect(await exists(join(dataDir, 'partitions', '1-1'))).toBe(false);
    expect(await exists(join(dataDir, 'partitions', '1-0'))).toBe(true);
    await store.close();
  });

  it('an assignment from before a partition was taken away does not bring it back; a newer epoch does', async () => {
    const store = await PartitionStore.open(options);
    await store.reconcile([assignment(5, 0, 3)], false);
    await store.require(5, 0).append(3, records(2), 0);
    expect((await store.reconcile([], true)).removed).toEqual(['5/0']); // moved to another broker
    // A heartbeat answer computed before the move, applied after it.
    const stale = await store.reconcile([assignment(5, 0, 3)], true);
    expect(stale.ignored).toEqual(['5/0']);
    expect(store.get(5, 0)).toBeUndefined();
    expect(await exists(join(dataDir, 'partitions', '5-0'))).toBe(false);
    // Moved back later, under a newer epoch.
    expect((await store.reconcile([assignment(5, 0, 4, 2)], true)).created).toEqual(['5/0']);
    expect(store.require(5, 0).endOffset).toBe(2);
    await store.close();
  });

  it('a complete answer based on an older generation keeps partitions assigned since', async () => {
    const store = await PartitionStore.open(options);
    const basis = store.generation;
    await store.reconcile([assignment(4, 0, 1)], false); // an Assign overtaking a heartbeat answer
    const report = await store.reconcile([], true, basis);
    expect(report.removed).toEqual([]);
    expect(store.get(4, 0)).toBeDefined();
    expect((await store.reconcile([], true, store.generation)).removed).toEqual(['4/0']);
    await store.close();
  });

  it('recovers partition directories on open, same epoch keeps everything, a new epoch truncates', async () => {
    const first = await PartitionStore.open(options);
    await first.reconcile([assignment(1, 0, 1), assignment(1, 1, 1)], false);
    await first.require(1, 0).append(1, records(5), 0);
    await first.require(1, 1).append(1, records(5), 0);
    await first.close();

    const second = await PartitionStore.open(options);
    expect(second.endOffsets().sort((a, b) => a.partitionId - b.partitionId)).toEqual([
      { topicId: 1, partitionId: 0, offset: 5 },
      { topicId: 1, partitionId: 1, offset: 5 },
    ]);
    const report = await second.reconcile([assignment(1, 0, 1, 0, 2), assignment(1, 1, 2, 3)], true);
    expect(report.kept).toEqual(['1/0']);
    expect(report.truncated).toEqual(['1/1']);
    expect(second.require(1, 0).endOffset).toBe(5);
    expect(second.require(1, 1).endOffset).toBe(3);
    expect(second.require(1, 1).epoch).toBe(2);
    await second.close();
  });

  it('wakes long-polls when records become durable', async () => {
    const store = await PartitionStore.open(options);
    await store.reconcile([assignment(1, 0, 1)], false);
    const woken = store.changes.until(() => true, 60_000);
    await store.require(1, 0).append(1, records(1), 0);
    await woken;
    await store.close();
  });
});
