import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionKey } from '@partq/partition';
import { createLogger, Mutex, PartqError } from '@partq/runtime';
import type { PartitionRow } from '@partq/schema';
import { useMigratedDatabase } from '../../test/migrated-database.js';
import { ClusterState } from '../state/cluster-state.js';
import { MetadataStore } from '../store/metadata-store.js';
import { TransactionLog } from '../txlog/transaction-log.js';
import { HandOvers } from './hand-overs.js';
import type { PartitionAssigner } from './partition-assigner.js';

const testDb = useMigratedDatabase();
const logger = createLogger({ role: 'manager', instanceId: 'test', level: 'silent' });

describe('HandOvers', () => {
  let dir: string;
  let txlog: TransactionLog;
  let state: ClusterState;
  let store: MetadataStore;
  let lock: Mutex;
  /** What the brokers were told: the partitions pushed and the previous owners, per push. */
  let pushes: { partitions: string[]; alsoBrokers: number[] }[];
  let handOvers: HandOvers;
  let topicId: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'partq-hand-overs-'));
    txlog = await TransactionLog.open(dir, logger);
    state = new ClusterState();
    store = new MetadataStore(testDb.db);
    lock = new Mutex();
    pushes = [];
    const brokers = [await store.registerBroker('http://127.0.0.1:1', undefined), await store.registerBroker('http://127.0.0.1:2', undefined)];
    state.apply({ brokers });
    const created = await store.createTopic({
      name: `hand-overs-${Date.now()}-${Math.random()}`,
      partitionCount: 5,
      defaultAcks: 'broker',
      retentionMs: null,
      retentionBytes: null,
      owners: Array.from({ length: 5 }, () => brokers[0]!.id),
    });
    topicId = created!.topic.id;
    state.apply({ topics: [created!.topic], partitions: created!.partitions });
    for (const p of created!.partitions) state.moving.add(partitionKey(p.topic_id, p.partition_id));
    // Pushing assignments needs brokers; the push itself is the assigner's, tested with real brokers elsewhere.
    const assigner = {
      notifyOwners: async (partitions: PartitionRow[], alsoBrokers: number[] = []) => {
        pushes.push({ partitions: partitions.map((p) => `${p.partition_id}@${p.broker_id}`), alsoBrokers });
      },
    } as unknown as PartitionAssigner;
    handOvers = new HandOvers(state, store, assigner, lock, txlog, logger);
  });

  afterEach(async () => {
    await txlog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const from = () => state.partition(topicId, 0)!.broker_id!;
  const to = () => [...state.brokers.keys()].find((id) => id !== from())!;
  const handOver = (partitionId: number, fromBroker = from(), toBroker = to()) =>
    handOvers.handOver({ topicId, partitionId, from: fromBroker, to: toBroker, ownerLost: false });

  /** Takes the manager's lock (as a sync would); the returned function lets it go. */
  async function holdLock(): Promise<() => Promise<void>> {
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const held = lock.run(() => {
      entered();
      return new Promise<void>((resolve) => (release = resolve));
    });
    await inside;
    return () => {
      release();
      return held;
    };
  }

  async function ownersInDatabase(): Promise<{ partition_id: number; broker_id: number | null; epoch: number }[]> {
    return testDb.db.selectFrom('partitions').select(['partition_id', 'broker_id', 'epoch']).where('topic_id', '=', topicId).orderBy('partition_id').execute();
  }

  it('hands over the moves that arrive while the lock is busy in one event, one transaction and one push', async () => {
    const [a, b] = [from(), to()];
    const logged = jest.spyOn(txlog, 'run');
    const release = await holdLock();
    const moved = Promise.all([0, 1, 2, 3, 4].map((p) => handOver(p)));
    await release();
    const rows = await moved;

    expect(rows.map((r) => [r.partition_id, r.broker_id, r.epoch])).toEqual([0, 1, 2, 3, 4].map((p) => [p, b, 2]));
    expect(await ownersInDatabase()).toEqual([0, 1, 2, 3, 4].map((p) => ({ partition_id: p, broker_id: b, epoch: 2 })));
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]![0]).toMatchObject({ kind: 'change-owners', changes: [0, 1, 2, 3, 4].map((p) => ({ partitionId: p, brokerId: b, epoch: 2 })) });
    expect(pushes).toEqual([{ partitions: [0, 1, 2, 3, 4].map((p) => `${p}@${b}`), alsoBrokers: [a] }]);
    // Handed over: no longer fenced in the assignments the brokers are sent.
    expect(state.moving.size).toBe(0);
    expect(state.partition(topicId, 3)).toMatchObject({ broker_id: b, epoch: 2 });
  });

  it('refuses a move whose partition changed owner meanwhile, and hands over the others', async () => {
    const [a, b] = [from(), to()];
    // Partition 1 went to b by another way (say, its owner was found dead) before its drain finished.
    const [elsewhere] = await store.changeOwners([{ topicId, partitionId: 1, brokerId: b, epoch: 2, ownerLost: true }]);
    state.apply({ partitions: [elsewhere!] });

    const results = await Promise.allSettled([0, 1, 2].map((p) => handOver(p, a, b)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refused = (results[1] as PromiseRejectedResult).reason as PartqError;
    expect(refused).toBeInstanceOf(PartqError);
    expect(refused.code).toBe('UNAVAILABLE');
    expect(state.moving.has(partitionKey(topicId, 1))).toBe(true); // the mover unfences it
    expect((await ownersInDatabase()).slice(0, 3)).toEqual([0, 1, 2].map((p) => ({ partition_id: p, broker_id: b, epoch: 2 })));
  });

  it('when the batch fails, tries each alone: only the partition at fault fails', async () => {
    const [a, b] = [from(), to()];
    // Another writer moved partition 2 in the database behind this manager's back (its copy is stale):
    // the batch's transaction fails on it.
    await testDb.db.updateTable('partitions').set({ epoch: 7 }).where('topic_id', '=', topicId).where('partition_id', '=', 2).execute();
    const release = await holdLock();
    const settled = Promise.allSettled([0, 1, 2, 3].map((p) => handOver(p)));
    await release();
    const results = await settled;

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((results[2] as PromiseRejectedResult).reason as PartqError).code).toBe('UNAVAILABLE');
    expect((await ownersInDatabase()).map((r) => [r.partition_id, r.broker_id, r.epoch])).toEqual([
      [0, b, 2],
      [1, b, 2],
      [2, a, 7],
      [3, b, 2],
      [4, a, 1],
    ]);
    // One push for the three that went, after the batch was retried one at a time.
    expect(pushes.map((p) => p.partitions)).toEqual([[`0@${b}`, `1@${b}`, `3@${b}`]]);
  });
});
