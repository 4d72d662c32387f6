import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';
import { listBrokers } from './support/admin-api.js';
import { waitFor } from './support/wait-for.js';

/*
 * acks=all is acknowledged only once the record is committed in PostgreSQL, so it survives
 * the permanent loss of the owning broker's disk: kill the broker, delete its data directory,
 * start it again (it joins as a new broker), and every acknowledged message is still delivered.
 * Consumers see it only once committed, so none can have read what such a loss takes away.
 */
jest.setTimeout(180_000);

let cluster: TestCluster;
let rest: RestClient;

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 2, replicas: 1, restart: false, env: { manager: { PARTQ_BROKER_TIMEOUT: '2s' } } });
  rest = new RestClient(cluster.gatewayUrl);
});

afterAll(async () => {
  await cluster?.dispose();
});

/** The broker process that owns the topic's partition 0. */
async function ownerOf(topic: string) {
  const address = (await listBrokers(cluster)).find((b) => b.partitions.some((p) => p.topic === topic))!.address;
  return [cluster.find('broker', 1), cluster.find('broker', 2)].find((p) => p.spec.url === address)!;
}

/** Resolves once a restarted role answers /healthz (it may not be ready: the manager is stopped). */
function waitUntilServing(url: string): Promise<true> {
  return waitFor(`${url} to come back`, () => fetch(new URL('/healthz', url)).then((r) => (r.ok ? true : undefined), () => undefined));
}

test('consumers get an acks=all message only once it is committed, and what follows it after it', async () => {
  await rest.createTopic('held', 1);
  const producer = await rest.registerProducer('held');
  const consumer = await rest.registerConsumer('held');
  // Known to the gateway and the replica before the manager stops: the metadata stream that would
  // tell them stops with it (a consume then answers UNAVAILABLE until the manager is back).
  expect(await rest.drain('held', consumer)).toEqual([]);
  const manager = cluster.find('manager', 1);
  // A stopped manager commits nothing: the acks=all record stays durable on its broker, uncommitted.
  await manager.kill('SIGSTOP');
  let all: Promise<Awaited<ReturnType<RestClient['produce']>>>;
  try {
    all = rest.produce('held', producer, 'all', { acks: 'all' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Acknowledged once durable; it lands behind the acks=all record, which is therefore stored too.
    const after = await rest.produce('held', producer, 'broker', { acks: 'broker' });
    expect(after.body).toMatchObject({ status: 'success', offset: 1 });
    expect((await rest.consume('held', consumer)).body).toMatchObject({ status: 'failure', code: 'EMPTY' });
  } finally {
    await manager.kill('SIGCONT');
  }
  expect((await all).body).toMatchObject({ status: 'success', offset: 0 });
  expect(await rest.receive('held', consumer, 2)).toEqual(['all', 'broker']);
});

test('a broker restarted before the manager commits still holds its acks=all records back', async () => {
  await rest.createTopic('held-restart', 1);
  const producer = await rest.registerProducer('held-restart');
  const consumer = await rest.registerConsumer('held-restart');
  // Known to the gateway and the replica before the manager stops (see above).
  expect(await rest.drain('held-restart', consumer)).toEqual([]);
  const owner = await ownerOf('held-restart');
  const manager = cluster.find('manager', 1);
  await manager.kill('SIGSTOP');
  let all: Promise<Awaited<ReturnType<RestClient['produce']>>>;
  try {
    all = rest.produce('held-restart', producer, 'all', { acks: 'all', sequence: 0 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await rest.produce('held-restart', producer, 'broker', { acks: 'broker', sequence: 1 })).body).toMatchObject({ status: 'success', offset: 1 });
    // Restarted from its WAL while the manager still commits nothing: it serves reads again, and
    // still not the acks=all record, nor what follows it.
    await owner.kill('SIGKILL');
    void owner.start().catch(() => undefined);
    await waitUntilServing(owner.spec.url);
    for (let i = 0; i < 5; i++) {
      expect((await rest.consume('held-restart', consumer)).body).toMatchObject({ status: 'failure', code: 'EMPTY' });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await manager.kill('SIGCONT');
  }
  // The gateway retried the acks=all record into the restarted broker: a duplicate, acknowledged once committed.
  expect((await all).body).toMatchObject({ status: 'success', offset: 0 });
  expect(await rest.receive('held-restart', consumer, 2)).toEqual(['all', 'broker']);
});

test('acks=all messages survive the loss of the broker disk', async () => {
  // The topic's default: produces that name no acks mode wait for PostgreSQL.
  const created = await rest.post('/topics', { topic_name: 'durable', partitions: 2, default_acks: 'all' });
  expect(created.body).toMatchObject({ status: 'success', topic: { default_acks: 'all' } });
  const producer = await rest.registerProducer('durable');
  const consumer = await rest.registerConsumer('durable');
  const acked: string[] = [];
  for (let i = 0; i < 100; i++) {
    const answer = await rest.produce('durable', producer, `m${i}`, { sequence: i });
    expect(answer.body).toMatchObject({ status: 'success' });
    acked.push(`m${i}`);
  }

  const broker = cluster.find('broker', 1);
  await broker.kill('SIGKILL');
  rmSync(join(cluster.dataDir, 'broker-1'), { recursive: true, force: true });
  await broker.start();

  // The lost broker's partitions move to live brokers once it is declared dead; reading them
  // back comes from PostgreSQL, where acks=all put every acknowledged record.
  const received: string[] = [];
  const deadline = Date.now() + 60_000;
  while (received.length < acked.length && Date.now() < deadline) {
    const answer = await rest.consume('durable', consumer);
    if (answer.body.status === 'success') received.push(answer.body.message as string);
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(received.sort()).toEqual([...acked].sort());
  expect(new Set(received).size).toBe(received.length);
});
