import { Consumer } from '@partq/consumer';
import { Producer } from '@partq/producer';
import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';
import { sleep, waitFor } from './support/wait-for.js';

// A topic's time and size limits on a real cluster: created through the clients, applied by the
// manager whether or not the topic's consumer read anything, and seen by that consumer as a jump
// to the first retained offset.
jest.setTimeout(120_000);

/** The records of a partition retention always keeps (the brokers' idempotence window). */
const KEEP_LAST = 8192;

let cluster: TestCluster;
let rest: RestClient;
let producer: Producer;
let consumer: Consumer;

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 1, replicas: 1, env: { manager: { PARTQ_RETENTION_INTERVAL: '200ms' } } });
  rest = new RestClient(cluster.gatewayUrl);
  producer = new Producer({ urls: [cluster.gatewayUrl] });
  consumer = new Consumer({ urls: [cluster.gatewayUrl] });
});

afterAll(async () => {
  await Promise.all([producer?.close(), consumer?.close()]);
  await cluster?.dispose();
});

interface PartitionAnswer {
  start_offset: number;
  end_offset: number;
  stored_bytes: number;
}

async function partition(topic: string): Promise<PartitionAnswer & { topic: Record<string, unknown> }> {
  const answer = await rest.get('/topics/partitions', { topic_name: topic });
  const [only] = answer.body.partitions as PartitionAnswer[];
  return { ...only!, topic: answer.body.topic as Record<string, unknown> };
}

/** Sends `count` messages "<topic>-<i>" of ~`size` bytes, pipelined, and answers their offsets. */
async function produce(topic: string, count: number, size: number): Promise<number[]> {
  const offsets: number[] = [];
  for (let from = 0; from < count; from += 1000) {
    const values = Array.from({ length: Math.min(1000, count - from) }, (_, i) => `${topic}-${from + i}-`.padEnd(size, 'x'));
    offsets.push(...(await producer.send(topic, values)).map((r) => r.offset));
  }
  return offsets;
}

test('a size limit keeps the newest records up to the limit, though the consumer read none of them', async () => {
  const limit = 1_500_000;
  await producer.createTopic('sized', { partitions: 1, retentionBytes: limit });
  // Registered before the records, at offset 0: it would hold every one of them without the limit.
  await consumer.register('sized');
  const offsets = await produce('sized', 30_000, 100);
  expect(offsets.at(-1)).toBe(29_999);

  // The records arrive over several syncs, a pass may trim before the last of them is committed:
  // wait until passes (every 200 ms) leave the partition as it is.
  const trimmed = await waitFor('the size limit', async () => {
    const p = await partition('sized');
    if (!(p.start_offset > 0 && p.stored_bytes <= limit)) return undefined;
    await sleep(600);
    const again = await partition('sized');
    return again.start_offset === p.start_offset && again.stored_bytes === p.stored_bytes ? again : undefined;
  });
  expect(trimmed.topic).toMatchObject({ retention_bytes: limit, retention_ms: null });
  // Whole rows (at most ~8 KB of records each) go: what stays is under the limit by less than one.
  expect(trimmed.stored_bytes).toBeGreaterThan(limit - 8_200);
  expect(trimmed.start_offset).toBeLessThanOrEqual(30_000 - KEEP_LAST);
  expect(trimmed.end_offset).toBe(30_000);

  // The consumer's next record is the first retained one, as it was sent.
  const next = await consumer.dequeue('sized');
  expect(next).toMatchObject({ partition: 0, offset: trimmed.start_offset });
  expect(next!.text().startsWith(`sized-${trimmed.start_offset}-`)).toBe(true);
  expect((await consumer.size('sized')).size).toBe(30_000 - trimmed.start_offset - 1);
});

test('a time limit deletes what is older, except the last records of the partition; a topic without limits keeps everything until one is set', async () => {
  await producer.createTopic('timed', { partitions: 1, retentionMs: 1_000 });
  await producer.createTopic('kept', { partitions: 1 });
  await consumer.register('timed');
  await consumer.register('kept');
  await Promise.all([produce('timed', 12_000, 50), produce('kept', 12_000, 50)]);

  // Everything is older than a second soon (the oldest first, on a busy machine a pass may come
  // between): all of it goes but the idempotence window, and no more.
  const trimmed = await waitFor('the time limit', async () => {
    const p = await partition('timed');
    expect(p.start_offset).toBeLessThanOrEqual(12_000 - KEEP_LAST);
    return p.start_offset === 12_000 - KEEP_LAST ? p : undefined;
  });
  expect(trimmed.topic).toMatchObject({ retention_ms: 1_000, retention_bytes: null });
  expect((await consumer.dequeue('timed'))?.offset).toBe(12_000 - KEEP_LAST);

  // Retention ran many times meanwhile (every 200 ms): the topic without limits lost nothing.
  await sleep(1_000);
  expect((await partition('timed')).start_offset).toBe(12_000 - KEEP_LAST);
  const kept = await partition('kept');
  expect(kept).toMatchObject({ start_offset: 0, end_offset: 12_000 });
  expect((await consumer.dequeue('kept'))?.offset).toBe(0);

  // An operator gives it a time limit: the next passes apply it.
  const changed = await fetch(new URL('/admin/topics/kept', cluster.gatewayUrl), {
    method: 'PATCH',
    headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ retention_ms: 1_000 }),
  });
  expect(changed.status).toBe(200);
  expect(((await changed.json()) as { topic: unknown }).topic).toMatchObject({ name: 'kept', retention_ms: 1_000, retention_bytes: null });
  await waitFor('the new time limit', async () => ((await partition('kept')).start_offset === 12_000 - KEEP_LAST ? true : undefined));
  expect((await consumer.dequeue('kept'))?.offset).toBe(12_000 - KEEP_LAST);
});

test('a limit that is not a positive whole number is refused, and no topic is created', async () => {
  const answer = await rest.post('/topics', { topic_name: 'bad-limit', retention_bytes: 0 });
  expect(answer.status).toBe(400);
  expect(answer.body).toMatchObject({ status: 'failure', code: 'INVALID_ARGUMENT' });
  await expect(producer.createTopic('bad-limit', { retentionMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  expect(await producer.listTopics()).not.toContain('bad-limit');
});
