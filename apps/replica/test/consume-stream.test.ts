import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { BrokerState, PartitionOffsetSchema, type ConsumedMessage, type ConsumeStreamRequestSchema } from '@partq/proto';
import { fromConnectError } from '@partq/runtime';
import { waitFor } from './support/wait-for.js';
import { TestCluster, type TestReplica } from './support/test-cluster.js';

// ConsumeStream, Release and Checkpoint against a real PostgreSQL and a fake broker that long-polls like the real one.
const text = (message: ConsumedMessage): string => Buffer.from(message.payload).toString();
const tag = (message: ConsumedMessage): string => `${message.partitionId}:${message.offset}`;
const HEARTBEAT_MS = 200;

type ConsumeStreamRequest = MessageInitShape<typeof ConsumeStreamRequestSchema>;

let cluster: TestCluster;
let replica: TestReplica;

beforeAll(async () => {
  cluster = await TestCluster.start();
  replica = await cluster.startReplica({ PARTQ_REPLICA_STREAM_HEARTBEAT: `${HEARTBEAT_MS}ms` });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Reads a ConsumeStream in the background; the test looks at what arrived and how it ended. */
class StreamReader {
  readonly responses: ConsumedMessage[][] = [];
  /** 'OK' when the stream ended normally, 'CANCELLED' when the test cancelled it, else the error code. */
  readonly ended: Promise<string>;
  private readonly controller = new AbortController();

  constructor(target: TestReplica, request: ConsumeStreamRequest) {
    const call = target.client.consumeStream(request, { signal: this.controller.signal });
    this.ended = (async () => {
      try {
        for await (const response of call) this.responses.push(response.messages);
        return 'OK';
      } catch (error) {
        return this.controller.signal.aborted ? 'CANCELLED' : fromConnectError(error).code;
      }
    })();
  }

  get messages(): ConsumedMessage[] {
    return this.responses.flat();
  }

  async waitForMessages(count: number): Promise<ConsumedMessage[]> {
    await waitFor(() => this.messages.length >= count, `${count} messages on the stream`);
    return this.messages;
  }

  async cancel(): Promise<void> {
    this.controller.abort();
    await this.ended;
  }
}

function resumeAt(entries: [partitionId: number, offset: number][]) {
  return entries.map(([partitionId, offset]) => create(PartitionOffsetSchema, { partitionId, offset: BigInt(offset) }));
}

/** Unary consumes until an empty answer. */
async function drain(consumerId: number, topic: string): Promise<ConsumedMessage[]> {
  const all: ConsumedMessage[] = [];
  for (;;) {
    const { messages } = await replica.client.consume({ consumerId, topic, maxMessages: 100 });
    if (messages.length === 0) return all;
    all.push(...messages);
  }
}

it('delivers what is pending, then follows each partition on a tail (no repeated requests) for what is appended later', async () => {
  const topic = await cluster.createTopic('stream-live', 2);
  const consumer = await cluster.registerConsumer(topic);
  cluster.broker.append(topic.id, 0, ['a', 'b', 'c']);
  await cluster.synced(replica);

  const stream = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-live', maxMessages: 10, streamId: 'live' });
  try {
    expect((await stream.waitForMessages(3)).map(text)).toEqual(['a', 'b', 'c']);
    expect(await cluster.position(consumer.id, 0)).toBe(3);
    // Idle: a tail per partition is open; nothing else is asked of the broker, heartbeats or not.
    await waitFor(() => cluster.broker.openTails >= 2, 'the tails');
    const requests = (): number => cluster.broker.fetchCalls + cluster.broker.tailCalls;
    const before = requests();
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
    expect(requests() - before).toBe(0);
    cluster.broker.append(topic.id, 1, ['late']);
    expect((await stream.waitForMessages(4)).map(tag)).toEqual(['0:0', '0:1', '0:2', '1:0']);
    // Pushed into the read-ahead cache, so delivered without a Fetch.
    expect(requests() - before).toBe(0);
    cluster.broker.append(topic.id, 0, ['d', 'e']);
    cluster.broker.append(topic.id, 1, ['f']);
    expect((await stream.waitForMessages(7)).map(text).slice(4).sort()).toEqual(['d', 'e', 'f']);
    expect(requests() - before).toBe(0);
    // Every record came as the broker's stored bytes (records_data), none as decoded `records`.
    expect(cluster.broker.answersWithRecords.records).toBe(0);
    expect(cluster.broker.answersWithRecords.recordsData).toBeGreaterThanOrEqual(3);
  } finally {
    await stream.cancel();
  }
  expect(await stream.ended).toBe('CANCELLED');
});

it('reads a backlog from the broker once: a read ahead of a delivery is not fetched again by the stream', async () => {
  const topic = await cluster.createTopic('stream-backlog', 1);
  const consumer = await cluster.registerConsumer(topic);
  cluster.broker.append(topic.id, 0, Array.from({ length: 12 }, (_, i) => `m${i}`));
  await cluster.synced(replica);
  // Source reads of 3 records: each delivery of 3 is a full one, and the next is read ahead.
  const small = await cluster.startReplica({ PARTQ_REPLICA_FETCH_MAX_RECORDS: '3', PARTQ_REPLICA_STREAM_HEARTBEAT: `${HEARTBEAT_MS}ms` });
  const fetches = cluster.broker.fetchCalls;
  const stream = new StreamReader(small, { consumerId: consumer.id, topic: 'stream-backlog', maxMessages: 3, streamId: 'backlog' });
  try {
    expect((await stream.waitForMessages(12)).map(text)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
    // Four reads of the records, the read ahead after the last full delivery (it finds the end), and
    // the long-poll waiting there. Fetching each read ahead again as well made it 10.
    expect(cluster.broker.fetchCalls - fetches).toBeLessThanOrEqual(6);
  } finally {
    await stream.cancel();
    await cluster.stopReplica(small);
  }
});

it('answers at once with an empty response when nothing is pending, then heartbeats while idle', async () => {
  const topic = await cluster.createTopic('stream-idle', 1);
  const consumer = await cluster.registerConsumer(topic);
  await cluster.synced(replica);
  const stream = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-idle', streamId: 'idle' });
  try {
    await waitFor(() => stream.responses.length >= 1, 'the first response', 2_000);
    await waitFor(() => stream.responses.length >= 3, 'heartbeats', 5_000);
    expect(stream.messages).toEqual([]);
  } finally {
    await stream.cancel();
  }
});

it('on resume gives back what this stream delivered past the client’s offset, and nothing before it', async () => {
  const topic = await cluster.createTopic('stream-resume', 1);
  const consumer = await cluster.registerConsumer(topic);
  cluster.broker.append(topic.id, 0, Array.from({ length: 10 }, (_, i) => `m${i}`));
  await cluster.synced(replica);

  // The first run delivers everything (positions committed), but its client got only 0-2.
  const first = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-resume', maxMessages: 3, streamId: 'resumed' });
  await first.waitForMessages(3);
  await waitFor(async () => (await cluster.position(consumer.id, 0)) === 10, 'every delivery committed');
  await first.cancel();

  const second = new StreamReader(replica, {
    consumerId: consumer.id,
    topic: 'stream-resume',
    maxMessages: 3,
    streamId: 'resumed',
    resume: resumeAt([[0, 3]]),
  });
  try {
    expect((await second.waitForMessages(7)).map(text)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(second.messages).toHaveLength(7);
  } finally {
    await second.cancel();
  }
});

it('release gives back what was delivered but not handed out; a later consume gets it', async () => {
  const topic = await cluster.createTopic('stream-release', 2);
  const consumer = await cluster.registerConsumer(topic);
  cluster.broker.append(topic.id, 0, Array.from({ length: 6 }, (_, i) => `p0-${i}`));
  cluster.broker.append(topic.id, 1, Array.from({ length: 4 }, (_, i) => `p1-${i}`));
  await cluster.synced(replica);

  const stream = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-release', maxMessages: 100, streamId: 'released' });
  await stream.waitForMessages(10);
  await stream.cancel();
  const handedOut = stream.messages.filter((m) => m.partitionId === 0 && m.offset < 2n);
  // Handed out p0 0-1; from partition 1 nothing (not listed: given back whole).
  await replica.client.release({ consumerId: consumer.id, topic: 'stream-release', streamId: 'released', next: resumeAt([[0, 2]]) });
  expect(handedOut).toHaveLength(2);
  expect(await cluster.position(consumer.id, 0)).toBe(2);
  expect(await cluster.position(consumer.id, 1)).toBe(0);
  expect((await drain(consumer.id, 'stream-release')).map(tag).sort()).toEqual(['0:2', '0:3', '0:4', '0:5', '1:0', '1:1', '1:2', '1:3']);
  // Released once: a second release of the same stream gives nothing back (a unary consume moved on).
  await replica.client.release({ consumerId: consumer.id, topic: 'stream-release', streamId: 'released', next: [] });
  expect(await cluster.position(consumer.id, 0)).toBe(6);
});

it('checkpoint raises the stream’s floor while it delivers on: no later resume gives back below it', async () => {
  const topic = await cluster.createTopic('stream-checkpoint', 2);
  const consumer = await cluster.registerConsumer(topic);
  cluster.broker.append(topic.id, 0, Array.from({ length: 6 }, (_, i) => `p0-${i}`));
  await cluster.synced(replica);

  const stream = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-checkpoint', maxMessages: 2, streamId: 'checked' });
  try {
    await stream.waitForMessages(6);
    await waitFor(async () => (await cluster.position(consumer.id, 0)) === 6, 'every delivery committed');
    // The client handed out p0 0-3: the floor rises there; past the position it never goes, nor for another stream.
    await replica.client.checkpoint({ consumerId: consumer.id, topic: 'stream-checkpoint', streamId: 'checked', next: resumeAt([[0, 4]]) });
    await replica.client.checkpoint({ consumerId: consumer.id, topic: 'stream-checkpoint', streamId: 'other', next: resumeAt([[0, 6]]) });
    expect(await cluster.position(consumer.id, 0)).toBe(6);
    // The stream was not disturbed: it delivers what comes next.
    cluster.broker.append(topic.id, 1, ['p1-0', 'p1-1']);
    expect((await stream.waitForMessages(8)).slice(6).map(text)).toEqual(['p1-0', 'p1-1']);
    await waitFor(async () => (await cluster.position(consumer.id, 1)) === 2, 'the new delivery committed');
  } finally {
    await stream.cancel();
  }
  // A reconnect that says nothing of partition 0 gets back only what lay past the floor.
  const again = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-checkpoint', maxMessages: 10, streamId: 'checked', resume: resumeAt([[1, 2]]) });
  try {
    expect((await again.waitForMessages(2)).map(text)).toEqual(['p0-4', 'p0-5']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(again.messages).toHaveLength(2);
  } finally {
    await again.cancel();
  }
});

it('checkpoint refuses bad requests with stable codes and moves nothing', async () => {
  const topic = await cluster.createTopic('stream-checkpoint-bad', 2);
  const consumer = await cluster.registerConsumer(topic);
  const codeOf = (request: { streamId?: string; topic?: string; consumerId?: number; next?: ReturnType<typeof resumeAt> }) =>
    replica.client
      .checkpoint({ consumerId: consumer.id, topic: 'stream-checkpoint-bad', streamId: 's', ...request })
      .then(() => 'OK', (error: unknown) => fromConnectError(error).code);
  expect(await codeOf({ streamId: '' })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ next: resumeAt([[0, -1]]) })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ next: resumeAt([[0, 1], [0, 2]]) })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ consumerId: 999_999 })).toBe('NOT_FOUND');
  expect(await codeOf({ topic: 'stream-live' })).toBe('PERMISSION_DENIED');
  expect(await codeOf({ next: resumeAt([[0, 0]]) })).toBe('OK');
  expect(await cluster.position(consumer.id, 0)).toBe(0);
});

it('a stream and unary consumes of one consumer never deliver the same message', async () => {
  const topic = await cluster.createTopic('stream-mixed', 3);
  const consumer = await cluster.registerConsumer(topic);
  await cluster.synced(replica);
  const stream = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-mixed', maxMessages: 2, streamId: 'mixed' });
  const unary: ConsumedMessage[] = [];
  try {
    for (let round = 0; round < 10; round++) {
      for (const p of [0, 1, 2]) cluster.broker.append(topic.id, p, [`${p}-${round}-a`, `${p}-${round}-b`]);
      const answers = await Promise.all(Array.from({ length: 3 }, () => replica.client.consume({ consumerId: consumer.id, topic: 'stream-mixed', maxMessages: 2 })));
      unary.push(...answers.flatMap((a) => a.messages));
    }
    await waitFor(() => stream.messages.length + unary.length >= 60, 'every message delivered once');
  } finally {
    await stream.cancel();
  }
  const all = [...stream.messages, ...unary, ...(await drain(consumer.id, 'stream-mixed'))].map(tag);
  expect(all).toHaveLength(60);
  expect(new Set(all).size).toBe(60);
});

it('on a topic of many partitions, takes backlogs in turn and delivers what is appended anywhere, each partition in order', async () => {
  const partitions = 64;
  const topic = await cluster.createTopic('stream-wide', partitions);
  const consumer = await cluster.registerConsumer(topic);
  const backlog = (p: number) => Array.from({ length: 200 }, (_, i) => `${p}-${i}`);
  cluster.broker.append(topic.id, 7, backlog(7));
  cluster.broker.append(topic.id, 50, backlog(50));
  await cluster.synced(replica);
  const stream = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-wide', maxMessages: 2, streamId: 'wide' });
  try {
    const first = (await stream.waitForMessages(400)).map(text);
    // The second backlog was found while the first was being delivered, not after it.
    expect(first.indexOf('50-0')).toBeLessThan(first.indexOf('7-199'));
    expect(first.filter((m) => m.startsWith('7-'))).toEqual(backlog(7));
    expect(first.filter((m) => m.startsWith('50-'))).toEqual(backlog(50));

    // Live: one partition after another, a few messages each, while the stream waits at all 64.
    const live: string[] = [];
    for (let i = 0; i < 40; i++) {
      const p = (i * 29) % partitions;
      const messages = [`${p}:${i}a`, `${p}:${i}b`];
      live.push(...messages);
      cluster.broker.append(topic.id, p, messages);
      if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const delivered = (await stream.waitForMessages(400 + live.length)).slice(400).map(text);
    expect([...delivered].sort()).toEqual([...live].sort());
    for (let p = 0; p < partitions; p++) {
      const of = (m: string) => m.startsWith(`${p}:`);
      expect(delivered.filter(of)).toEqual(live.filter(of));
    }
  } finally {
    await stream.cancel();
  }
});

it('a stream id opened again supersedes the run still going here', async () => {
  const topic = await cluster.createTopic('stream-twice', 1);
  const consumer = await cluster.registerConsumer(topic);
  await cluster.synced(replica);
  const request = { consumerId: consumer.id, topic: 'stream-twice', streamId: 'twice' };
  const old = new StreamReader(replica, request);
  await waitFor(() => old.responses.length >= 1, 'the first run to start');
  const fresh = new StreamReader(replica, request);
  try {
    expect(await old.ended).toBe('UNAVAILABLE');
    cluster.broker.append(topic.id, 0, ['x']);
    expect((await fresh.waitForMessages(1)).map(text)).toEqual(['x']);
  } finally {
    await fresh.cancel();
  }
});

it('a stream reconnected through another replica fences off its run on the first: nothing more is delivered there, nothing skipped', async () => {
  const other = await cluster.startReplica({ PARTQ_REPLICA_STREAM_HEARTBEAT: `${HEARTBEAT_MS}ms` });
  const topic = await cluster.createTopic('stream-moved', 1);
  const consumer = await cluster.registerConsumer(topic);
  await cluster.synced(replica);
  await cluster.synced(other);
  const request = { consumerId: consumer.id, topic: 'stream-moved', maxMessages: 2, streamId: 'moved' };
  const old = new StreamReader(replica, request);
  let fresh: StreamReader | undefined;
  try {
    cluster.broker.append(topic.id, 0, ['m0', 'm1']);
    await old.waitForMessages(2);
    // The client went through another gateway, which prefers the other replica; the first run never
    // learns its client left and keeps reading, as a run on a replica whose client's gateway died would.
    fresh = new StreamReader(other, { ...request, resume: resumeAt([[0, 2]]) });
    await waitFor(() => fresh!.responses.length >= 1, 'the new run to start');
    const expected: string[] = [];
    for (let i = 2; i < 22; i += 2) {
      expected.push(`m${i}`, `m${i + 1}`);
      cluster.broker.append(topic.id, 0, [`m${i}`, `m${i + 1}`]);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await fresh.waitForMessages(20)).map(text)).toEqual(expected);
    // The first run's next delivery was refused: it ended instead of taking messages its client would never get.
    expect(await old.ended).toBe('UNAVAILABLE');
    expect(old.messages.map(text)).toEqual(['m0', 'm1']);
    expect(await cluster.position(consumer.id, 0)).toBe(22);
  } finally {
    await old.cancel();
    await fresh?.cancel();
    await cluster.stopReplica(other);
  }
});

it('reads what the manager committed while the owner is dead, within the re-check', async () => {
  const topic = await cluster.createTopic('stream-dead-owner', 1);
  const consumer = await cluster.registerConsumer(topic, { positions: [0] });
  cluster.setBrokerState(BrokerState.DEAD);
  await cluster.synced(replica);
  const stream = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-dead-owner', maxMessages: 10, streamId: 'dead-owner' });
  try {
    await waitFor(() => stream.responses.length >= 1, 'the first response');
    await cluster.commitMessages(topic, 0, 0, ['d0', 'd1']);
    cluster.updatePartition(topic, 0, { highWatermark: 2n });
    expect((await stream.waitForMessages(2)).map(text)).toEqual(['d0', 'd1']);
  } finally {
    await stream.cancel();
    cluster.setBrokerState(BrokerState.ALIVE);
    await cluster.synced(replica);
  }
});

it("follows nothing an owner holds before it is settled in the partition's epoch, then what it appends in it", async () => {
  const topic = await cluster.createTopic('stream-unsettled', 1);
  const consumer = await cluster.registerConsumer(topic, { positions: [0] });
  cluster.moveAheadOfItsOwner(topic, 0, ['stale']);
  await cluster.synced(replica);
  const stream = new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-unsettled', maxMessages: 10, streamId: 'unsettled' });
  try {
    await waitFor(() => stream.responses.length >= 1, 'the first response');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stream.messages).toEqual([]);
    // Taken at epoch 2: cut back to the high watermark, then an append in the new epoch.
    cluster.broker.startAt(topic.id, 0, 0, 2);
    cluster.broker.append(topic.id, 0, ['fresh']);
    expect((await stream.waitForMessages(1)).map(text)).toEqual(['fresh']);
  } finally {
    await stream.cancel();
  }
  expect(stream.messages.map(text)).toEqual(['fresh']);
});

it('refuses bad requests with stable codes and moves nothing', async () => {
  const topic = await cluster.createTopic('stream-bad', 2);
  const consumer = await cluster.registerConsumer(topic);
  cluster.broker.append(topic.id, 0, ['kept']);
  await cluster.synced(replica);
  const codeOf = (request: ConsumeStreamRequest) => new StreamReader(replica, { consumerId: consumer.id, topic: 'stream-bad', ...request }).ended;
  expect(await codeOf({ streamId: '' })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ streamId: 'x'.repeat(129) })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ streamId: 's', maxMessages: -1 })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ streamId: 's', resume: resumeAt([[0, -1]]) })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ streamId: 's', partitionId: 5 })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ streamId: 's', consumerId: 999_999 })).toBe('NOT_FOUND');
  expect(await codeOf({ streamId: 's', topic: 'stream-live' })).toBe('PERMISSION_DENIED');
  const release = await replica.client
    .release({ consumerId: consumer.id, topic: 'stream-bad', streamId: '' })
    .then(() => 'OK', (error: unknown) => fromConnectError(error).code);
  expect(release).toBe('INVALID_ARGUMENT');
  expect(await cluster.position(consumer.id, 0)).toBe(0);
});

it('a stopping replica ends its streams at once with UNAVAILABLE', async () => {
  const topic = await cluster.createTopic('stream-stop', 1);
  const consumer = await cluster.registerConsumer(topic);
  const leaving = await cluster.startReplica();
  await cluster.synced(leaving);
  const stream = new StreamReader(leaving, { consumerId: consumer.id, topic: 'stream-stop', streamId: 'stop' });
  await waitFor(() => stream.responses.length >= 1, 'the first response');
  const started = Date.now();
  await cluster.stopReplica(leaving);
  expect(await stream.ended).toBe('UNAVAILABLE');
  expect(Date.now() - started).toBeLessThan(5_000);
});
