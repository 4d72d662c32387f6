import { BrokerState, type ConsumedMessage } from '@partq/proto';
import { fromConnectError } from '@partq/runtime';
import { waitFor } from './support/wait-for.js';
import { TestCluster, type TestReplica } from './support/test-cluster.js';

const text = (message: ConsumedMessage): string => Buffer.from(message.payload).toString();
const tag = (message: ConsumedMessage): string => `${message.partitionId}:${message.offset}`;

/** The partq code a call failed with. */
async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    return fromConnectError(error).code;
  }
}

let cluster: TestCluster;
let replica: TestReplica;

beforeAll(async () => {
  cluster = await TestCluster.start();
  replica = await cluster.startReplica();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Consumes until an empty answer; returns every message in delivery order. */
async function drain(target: TestReplica, consumerId: number, topic: string, maxMessages: number): Promise<ConsumedMessage[]> {
  const all: ConsumedMessage[] = [];
  for (;;) {
    const { messages } = await target.client.consume({ consumerId, topic, maxMessages });
    if (messages.length === 0) return all;
    all.push(...messages);
  }
}

describe('consume', () => {
  it('returns the messages of one partition in offset order and commits the position before answering', async () => {
    const topic = await cluster.createTopic('orders', 1);
    const consumer = await cluster.registerConsumer(topic);
    cluster.broker.append(topic.id, 0, ['a', 'b', 'c', 'd', 'e']);
    await cluster.synced(replica);

    const first = await replica.client.consume({ consumerId: consumer.id, topic: 'orders', maxMessages: 2 });
    expect(first.messages.map(text)).toEqual(['a', 'b']);
    expect(first.messages.map((m) => Number(m.offset))).toEqual([0, 1]);
    expect(await cluster.position(consumer.id, 0)).toBe(2);

    const single = await replica.client.consume({ consumerId: consumer.id, topic: 'orders' });
    expect(single.messages.map(text)).toEqual(['c']);
    const rest = await replica.client.consume({ consumerId: consumer.id, topic: 'orders', maxMessages: 10 });
    expect(rest.messages.map(text)).toEqual(['d', 'e']);
    expect(await cluster.position(consumer.id, 0)).toBe(5);
    expect((await replica.client.consume({ consumerId: consumer.id, topic: 'orders' })).messages).toEqual([]);

    // Acknowledged a moment ago: visible at once, although earlier records came from the cache.
    cluster.broker.append(topic.id, 0, ['f']);
    expect((await replica.client.consume({ consumerId: consumer.id, topic: 'orders', maxMessages: 5 })).messages.map(text)).toEqual(['f']);
  });

  it('takes the partitions of a whole-topic consumer in turn, skipping empty ones', async () => {
    const topic = await cluster.createTopic('turns', 4);
    const consumer = await cluster.registerConsumer(topic);
    cluster.broker.append(topic.id, 0, ['a0', 'a1', 'a2']);
    cluster.broker.append(topic.id, 2, ['c0', 'c1']);
    cluster.broker.append(topic.id, 3, ['d0']);
    await cluster.synced(replica);

    const got: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { messages } = await replica.client.consume({ consumerId: consumer.id, topic: 'turns', maxMessages: 1 });
      got.push(...messages.map(text));
    }
    expect(got).toEqual(['a0', 'c0', 'd0', 'a1', 'c1', 'a2']);
  });

  it('returns up to max_messages from one partition and lets a request name the partition', async () => {
    const topic = await cluster.createTopic('batches', 2);
    const consumer = await cluster.registerConsumer(topic);
    cluster.broker.append(topic.id, 0, ['a0', 'a1', 'a2']);
    cluster.broker.append(topic.id, 1, ['b0', 'b1']);
    await cluster.synced(replica);

    const named = await replica.client.consume({ consumerId: consumer.id, topic: 'batches', partitionId: 1, maxMessages: 10 });
    expect(named.messages.map(tag)).toEqual(['1:0', '1:1']);
    const batch = await replica.client.consume({ consumerId: consumer.id, topic: 'batches', maxMessages: 10 });
    expect(batch.messages.map(tag)).toEqual(['0:0', '0:1', '0:2']);
  });

  it('a single-partition consumer reads only its partition', async () => {
    const topic = await cluster.createTopic('single', 3);
    const consumer = await cluster.registerConsumer(topic, { partitionId: 2 });
    cluster.broker.append(topic.id, 1, ['other']);
    cluster.broker.append(topic.id, 2, ['mine']);
    await cluster.synced(replica);
    expect((await drain(replica, consumer.id, 'single', 5)).map(tag)).toEqual(['2:0']);
  });

  it('after a full delivery reads the next one ahead, while the position is committed; a short one reads nothing ahead', async () => {
    const topic = await cluster.createTopic('read-ahead', 1);
    const consumer = await cluster.registerConsumer(topic);
    cluster.broker.append(topic.id, 0, Array.from({ length: 7 }, (_, i) => `m${i}`));
    await cluster.synced(replica);
    // Reads of 3 records from the source: a delivery of 3 is a full one.
    const small = await cluster.startReplica({ PARTQ_REPLICA_FETCH_MAX_RECORDS: '3', PARTQ_REPLICA_READ_AHEAD_RECORDS: '3' });
    try {
      const consume = async (): Promise<string[]> =>
        (await small.client.consume({ consumerId: consumer.id, topic: 'read-ahead', maxMessages: 3 })).messages.map(text);
      const fetches = cluster.broker.fetchCalls;
      expect(await consume()).toEqual(['m0', 'm1', 'm2']);
      // Offsets 3-5 are fetched without anyone asking for them yet.
      await waitFor(() => cluster.broker.fetchCalls === fetches + 2, 'the read ahead');
      expect(await consume()).toEqual(['m3', 'm4', 'm5']);
      await waitFor(() => cluster.broker.fetchCalls === fetches + 3, 'the next read ahead');
      expect(await consume()).toEqual(['m6']);
      expect(cluster.broker.fetchCalls).toBe(fetches + 3);
      // Nothing was read ahead after the short delivery: the partition has nothing more.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(cluster.broker.fetchCalls).toBe(fetches + 3);
      expect(await cluster.position(consumer.id, 0)).toBe(7);
    } finally {
      await cluster.stopReplica(small);
    }
  });

  it('reads ahead more records than a delivery takes, and serves the next deliveries from the cache', async () => {
    const topic = await cluster.createTopic('read-ahead-many', 1);
    const consumer = await cluster.registerConsumer(topic);
    cluster.broker.append(topic.id, 0, Array.from({ length: 7 }, (_, i) => `n${i}`));
    await cluster.synced(replica);
    const small = await cluster.startReplica({ PARTQ_REPLICA_FETCH_MAX_RECORDS: '3', PARTQ_REPLICA_READ_AHEAD_RECORDS: '6' });
    try {
      const consume = async (): Promise<string[]> =>
        (await small.client.consume({ consumerId: consumer.id, topic: 'read-ahead-many', maxMessages: 10 })).messages.map(text);
      const fetches = cluster.broker.fetchCalls;
      // max_messages is capped at 3; the one read brought 6.
      expect(await consume()).toEqual(['n0', 'n1', 'n2']);
      expect(cluster.broker.fetchCalls).toBe(fetches + 1);
      expect(await consume()).toEqual(['n3', 'n4', 'n5']);
      // That delivery came from the cache; being full, it started the read of offset 6 on.
      await waitFor(() => cluster.broker.fetchCalls === fetches + 2, 'the read ahead');
      expect(await consume()).toEqual(['n6']);
      expect(cluster.broker.fetchCalls).toBe(fetches + 2);
      expect(await cluster.position(consumer.id, 0)).toBe(7);
    } finally {
      await cluster.stopReplica(small);
    }
  });

  it('continues where it left off after a restart, delivering nothing twice', async () => {
    const topic = await cluster.createTopic('restart', 2);
    const consumer = await cluster.registerConsumer(topic);
    for (const p of [0, 1]) cluster.broker.append(topic.id, p, Array.from({ length: 10 }, (_, i) => `${p}-${i}`));
    await cluster.synced(replica);

    const first = await cluster.startReplica();
    const before: ConsumedMessage[] = [];
    for (let i = 0; i < 3; i++) before.push(...(await first.client.consume({ consumerId: consumer.id, topic: 'restart', maxMessages: 3 })).messages);
    await cluster.stopReplica(first);

    const second = await cluster.startReplica();
    const after = await drain(second, consumer.id, 'restart', 4);
    await cluster.stopReplica(second);

    const all = [...before, ...after].map(tag);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual([0, 1].flatMap((p) => Array.from({ length: 10 }, (_, i) => `${p}:${i}`)).sort());
    for (const p of [0, 1]) {
      const offsets = [...before, ...after].filter((m) => m.partitionId === p).map((m) => Number(m.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  it('never gives two concurrent consumes of one consumer the same message', async () => {
    const topic = await cluster.createTopic('concurrent', 3);
    const consumer = await cluster.registerConsumer(topic);
    for (const p of [0, 1, 2]) cluster.broker.append(topic.id, p, Array.from({ length: 30 }, (_, i) => `${p}-${i}`));
    await cluster.synced(replica);

    const answers = await Promise.all(
      Array.from({ length: 40 }, () => replica.client.consume({ consumerId: consumer.id, topic: 'concurrent', maxMessages: 3 })),
    );
    const delivered = [...answers.flatMap((a) => a.messages), ...(await drain(replica, consumer.id, 'concurrent', 3))].map(tag);
    expect(delivered).toHaveLength(90);
    expect(new Set(delivered).size).toBe(90);
  });

  it('two replicas serving one consumer at once never deliver a message twice', async () => {
    const topic = await cluster.createTopic('two-replicas', 2);
    const consumer = await cluster.registerConsumer(topic);
    for (const p of [0, 1]) cluster.broker.append(topic.id, p, Array.from({ length: 40 }, (_, i) => `${p}-${i}`));
    const other = await cluster.startReplica();
    await cluster.synced(replica);

    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? replica : other).client.consume({ consumerId: consumer.id, topic: 'two-replicas', maxMessages: 2 })),
    );
    const delivered = [...answers.flatMap((a) => a.messages), ...(await drain(other, consumer.id, 'two-replicas', 5))].map(tag);
    await cluster.stopReplica(other);
    expect(delivered).toHaveLength(80);
    expect(new Set(delivered).size).toBe(80);
  });

  it('reloads the position when someone else moved it (the compare-and-set missed)', async () => {
    const topic = await cluster.createTopic('moved', 1);
    const consumer = await cluster.registerConsumer(topic);
    cluster.broker.append(topic.id, 0, Array.from({ length: 10 }, (_, i) => `m${i}`));
    await cluster.synced(replica);

    expect((await replica.client.consume({ consumerId: consumer.id, topic: 'moved', maxMessages: 2 })).messages.map(text)).toEqual(['m0', 'm1']);
    // Another replica served this consumer meanwhile: the cached position 2 is stale.
    const other = await cluster.startReplica();
    expect((await other.client.consume({ consumerId: consumer.id, topic: 'moved', maxMessages: 3 })).messages.map(text)).toEqual([
      'm2',
      'm3',
      'm4',
    ]);
    await cluster.stopReplica(other);
    expect((await replica.client.consume({ consumerId: consumer.id, topic: 'moved', maxMessages: 2 })).messages.map(text)).toEqual(['m5', 'm6']);

    await cluster.db.updateTable('consumer_positions').set({ next_offset: 9 }).where('consumer_id', '=', consumer.id).execute();
    expect((await replica.client.consume({ consumerId: consumer.id, topic: 'moved', maxMessages: 5 })).messages.map(text)).toEqual(['m9']);
  });
});

describe('reading PostgreSQL', () => {
  it('reads the messages table for offsets the broker trimmed (OFFSET_OUT_OF_RANGE)', async () => {
    const topic = await cluster.createTopic('trimmed', 1);
    const consumer = await cluster.registerConsumer(topic, { positions: [0] });
    cluster.broker.append(topic.id, 0, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    await cluster.commitMessages(topic, 0, 0, ['m0', 'm1', 'm2', 'm3']);
    cluster.broker.trimBelow(topic.id, 0, 4);
    await cluster.synced(replica);

    const sources = async () => (await replica.registry.getSingleMetric('partq_replica_fetch_source_total')!.get()).values;
    const postgresReads = async () => (await sources()).find((v) => v.labels['source'] === 'postgres')?.value ?? 0;
    const before = await postgresReads();
    const all = await drain(replica, consumer.id, 'trimmed', 3);
    expect(all.map(text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(await postgresReads()).toBeGreaterThan(before);
    expect(await cluster.position(consumer.id, 0)).toBe(6);
  });

  it('reads committed messages below the high watermark while the owner cannot answer', async () => {
    const topic = await cluster.createTopic('owner-down', 1);
    const consumer = await cluster.registerConsumer(topic, { positions: [0] });
    cluster.broker.append(topic.id, 0, ['m0', 'm1', 'm2', 'm3']);
    await cluster.commitMessages(topic, 0, 0, ['m0', 'm1', 'm2']);
    cluster.updatePartition(topic, 0, { highWatermark: 3n });
    await cluster.synced(replica);

    cluster.broker.failWith = 'UNAVAILABLE';
    try {
      expect((await drain(replica, consumer.id, 'owner-down', 2)).map(text)).toEqual(['m0', 'm1', 'm2']);
    } finally {
      cluster.broker.failWith = undefined;
    }
    expect((await drain(replica, consumer.id, 'owner-down', 2)).map(text)).toEqual(['m3']);
  });

  it('reads PostgreSQL when the owner is marked dead, and nothing past the high watermark', async () => {
    const topic = await cluster.createTopic('owner-dead', 1);
    const consumer = await cluster.registerConsumer(topic, { positions: [0] });
    cluster.broker.append(topic.id, 0, ['m0', 'm1', 'm2']);
    await cluster.commitMessages(topic, 0, 0, ['m0', 'm1']);
    cluster.updatePartition(topic, 0, { highWatermark: 2n });
    cluster.setBrokerState(BrokerState.DEAD);
    await cluster.synced(replica);
    const fetchesBefore = cluster.broker.fetchCalls;
    try {
      expect((await drain(replica, consumer.id, 'owner-dead', 5)).map(text)).toEqual(['m0', 'm1']);
      expect(cluster.broker.fetchCalls).toBe(fetchesBefore);
    } finally {
      cluster.setBrokerState(BrokerState.ALIVE);
      await cluster.synced(replica);
    }
    expect((await drain(replica, consumer.id, 'owner-dead', 5)).map(text)).toEqual(['m2']);
  });

  it("delivers nothing an owner holds before it is settled in the partition's epoch: those records may be cut back", async () => {
    const topic = await cluster.createTopic('unsettled', 1);
    const consumer = await cluster.registerConsumer(topic, { positions: [0] });
    // The metadata says epoch 2; the broker has not taken it yet and still holds epoch 1's record
    // past the high watermark (0), which taking epoch 2 will cut away.
    cluster.moveAheadOfItsOwner(topic, 0, ['stale']);
    await cluster.synced(replica);
    expect(await drain(replica, consumer.id, 'unsettled', 5)).toEqual([]);
    expect(await cluster.position(consumer.id, 0)).toBe(0);

    cluster.broker.startAt(topic.id, 0, 0, 2);
    cluster.broker.append(topic.id, 0, ['fresh']);
    expect((await drain(replica, consumer.id, 'unsettled', 5)).map(text)).toEqual(['fresh']);
  });

  it('jumps over offsets deleted by retention', async () => {
    const topic = await cluster.createTopic('retention', 2);
    const consumer = await cluster.registerConsumer(topic, { positions: [0, 0] });
    // Partition 0: the log start moved to 3 (announced); offsets 3-4 are only in PostgreSQL.
    cluster.broker.append(topic.id, 0, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    await cluster.commitMessages(topic, 0, 3, ['m3', 'm4']);
    cluster.broker.trimBelow(topic.id, 0, 5);
    cluster.updatePartition(topic, 0, { logStartOffset: 3n, highWatermark: 5n });
    // Partition 1: rows 0-1 deleted, the announcement not here yet.
    cluster.broker.append(topic.id, 1, ['n0', 'n1', 'n2', 'n3']);
    await cluster.commitMessages(topic, 1, 2, ['n2']);
    cluster.broker.trimBelow(topic.id, 1, 3);
    await cluster.synced(replica);

    const p0 = await replica.client.consume({ consumerId: consumer.id, topic: 'retention', partitionId: 0, maxMessages: 10 });
    expect(p0.messages.map(tag)).toEqual(['0:3', '0:4']);
    const p1 = await replica.client.consume({ consumerId: consumer.id, topic: 'retention', partitionId: 1, maxMessages: 10 });
    expect(p1.messages.map(tag)).toEqual(['1:2']);
    expect((await drain(replica, consumer.id, 'retention', 10)).map(tag).sort()).toEqual(['0:5', '0:6', '1:3']);
  });
});

describe('size', () => {
  it('counts the pending messages per partition from the brokers end offsets', async () => {
    const topic = await cluster.createTopic('sized', 3);
    const consumer = await cluster.registerConsumer(topic);
    cluster.broker.append(topic.id, 0, ['a', 'b', 'c', 'd', 'e']);
    cluster.broker.append(topic.id, 2, ['x', 'y']);
    await cluster.synced(replica);
    await replica.client.consume({ consumerId: consumer.id, topic: 'sized', partitionId: 0, maxMessages: 2 });

    const size = await replica.client.size({ consumerId: consumer.id, topic: 'sized' });
    expect(Number(size.size)).toBe(5);
    expect(size.partitions.map((p) => [p.partitionId, Number(p.size)])).toEqual([
      [0, 3],
      [1, 0],
      [2, 2],
    ]);
  });

  it('falls back to the high watermark when the broker cannot answer', async () => {
    const topic = await cluster.createTopic('sized-down', 1);
    const consumer = await cluster.registerConsumer(topic, { positions: [1] });
    cluster.broker.append(topic.id, 0, ['a', 'b', 'c', 'd']);
    cluster.updatePartition(topic, 0, { highWatermark: 3n });
    await cluster.synced(replica);
    cluster.broker.failWith = 'UNAVAILABLE';
    try {
      expect(Number((await replica.client.size({ consumerId: consumer.id, topic: 'sized-down' })).size)).toBe(2);
    } finally {
      cluster.broker.failWith = undefined;
    }
    expect(Number((await replica.client.size({ consumerId: consumer.id, topic: 'sized-down' })).size)).toBe(3);
  });
});

describe('errors', () => {
  let consumerId: number;
  let singleId: number;

  beforeAll(async () => {
    const topic = await cluster.createTopic('guarded', 2);
    consumerId = (await cluster.registerConsumer(topic)).id;
    singleId = (await cluster.registerConsumer(topic, { partitionId: 0 })).id;
    await cluster.createTopic('elsewhere', 1);
    await cluster.synced(replica);
  });

  it('an unknown consumer is NOT_FOUND', async () => {
    expect(await codeOf(replica.client.consume({ consumerId: 999_999, topic: 'guarded' }))).toBe('NOT_FOUND');
    expect(await codeOf(replica.client.size({ consumerId: 999_999, topic: 'guarded' }))).toBe('NOT_FOUND');
  });

  it('another topic than the registered one is PERMISSION_DENIED, naming the registered topic', async () => {
    const error = await replica.client.consume({ consumerId, topic: 'elsewhere' }).catch((e: unknown) => fromConnectError(e));
    expect(error).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((error as Error).message).toContain('"guarded"');
    expect(await codeOf(replica.client.size({ consumerId, topic: 'elsewhere' }))).toBe('PERMISSION_DENIED');
  });

  it('a partition outside the topic is INVALID_ARGUMENT; one not subscribed to is PERMISSION_DENIED', async () => {
    expect(await codeOf(replica.client.consume({ consumerId, topic: 'guarded', partitionId: 2 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(replica.client.consume({ consumerId, topic: 'guarded', partitionId: -1 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(replica.client.consume({ consumerId: singleId, topic: 'guarded', partitionId: 1 }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(replica.client.consume({ consumerId: singleId, topic: 'guarded', partitionId: 0 }))).toBe('OK');
  });

  it('a missing consumer id, topic or a negative max_messages is INVALID_ARGUMENT', async () => {
    expect(await codeOf(replica.client.consume({ consumerId: 0, topic: 'guarded' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(replica.client.consume({ consumerId, topic: '' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(replica.client.consume({ consumerId, topic: 'guarded', maxMessages: -1 }))).toBe('INVALID_ARGUMENT');
  });
});

describe('the cluster around it', () => {
  it('finds a consumer registered a moment ago that the metadata stream has not shown yet', async () => {
    const topic = await cluster.createTopic('fresh', 1);
    const consumer = await cluster.registerConsumer(topic, { announce: false });
    cluster.broker.append(topic.id, 0, ['hello']);
    await cluster.synced(replica);
    expect(replica.view.consumer(consumer.id)).toBeUndefined();
    const calls = cluster.manager.getMetadataCalls;
    expect((await replica.client.consume({ consumerId: consumer.id, topic: 'fresh' })).messages.map(text)).toEqual(['hello']);
    expect(cluster.manager.getMetadataCalls).toBe(calls + 1);
  });

  it('reports consumer activity to the manager', async () => {
    const topic = await cluster.createTopic('active', 1);
    const consumer = await cluster.registerConsumer(topic);
    await cluster.synced(replica);
    await replica.client.consume({ consumerId: consumer.id, topic: 'active' });
    await waitFor(() => cluster.manager.activeConsumers.has(consumer.id), 'the activity report');
  });

  it('heartbeats, and registers again when the manager forgot it', async () => {
    await waitFor(() => cluster.manager.heartbeats.includes(replica.replicaId), 'a heartbeat');
    cluster.manager.forgetReplicas();
    await waitFor(() => cluster.manager.replicas.size > 0, 'a new registration');
    const [newId] = [...cluster.manager.replicas.keys()];
    await waitFor(() => cluster.manager.heartbeats.includes(newId!), 'a heartbeat under the new id');
  });

  it('counts consumed messages per topic', async () => {
    const metric = await replica.registry.getSingleMetric('partq_replica_consumed_messages_total')!.get();
    expect(metric.values.find((v) => v.labels['topic'] === 'orders')?.value).toBe(6);
  });
});
