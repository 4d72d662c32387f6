import { get, post } from './http.js';
import { startFakeCluster, type FakeCluster } from './fakes/fake-cluster.js';

let cluster: FakeCluster;
let producerId: number;
const consumers: number[] = [];

beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 1, replicas: 3 });
  await post(app(), '/topics', { topic_name: 'reads', partitions: 1 });
  producerId = (await post(app(), '/producer/register', { topic: 'reads' })).body.producer_id;
  for (let i = 0; i < 12; i++) consumers.push((await post(app(), '/consumer/register', { topic: 'reads' })).body.consumer_id);
});
afterAll(async () => {
  await cluster.stop();
});
const app = () => cluster.gateway.app;
const produce = (message: string) => post(app(), '/producer/produce', { topic: 'reads', producer_id: producerId, message });
const consume = (consumerId: number) => get(app(), '/consumer/consume', { topic: 'reads', consumer_id: consumerId });
const servedBy = (consumerId: number) => cluster.replicas.filter((r) => r.served.includes(consumerId)).map((r) => r.replica.id);
const clearServed = () => cluster.replicas.forEach((r) => (r.served.length = 0));

test('each consumer sticks to one replica, and the consumers spread over the replicas', async () => {
  await produce('m1');
  await produce('m2');
  for (const consumerId of consumers) {
    expect((await consume(consumerId)).body.message).toBe('m1');
    expect((await consume(consumerId)).body.message).toBe('m2');
  }
  for (const consumerId of consumers) expect(servedBy(consumerId)).toHaveLength(1);
  const used = new Set(consumers.map((c) => servedBy(c)[0]));
  expect(used.size).toBeGreaterThan(1);
});

test('when a replica goes away its consumers move to the next one; the others stay put', async () => {
  const before = new Map(consumers.map((c) => [c, servedBy(c)[0]!]));
  const victim = cluster.replicas.find((r) => r.served.length > 0)!;
  const orphans = consumers.filter((c) => before.get(c) === victim.replica.id);
  expect(orphans.length).toBeGreaterThan(0);
  await victim.close();
  clearServed();

  await produce('m3');
  for (const consumerId of consumers) {
    const reply = await consume(consumerId);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'success', message: 'm3' });
  }
  for (const consumerId of consumers) {
    const now = servedBy(consumerId);
    expect(now).toHaveLength(1);
    if (orphans.includes(consumerId)) expect(now[0]).not.toBe(victim.replica.id);
    else expect(now[0]).toBe(before.get(consumerId));
  }
});

test('with no replica reachable, consume is 503 UNAVAILABLE', async () => {
  await Promise.all(cluster.replicas.map((r) => r.close()));
  const reply = await consume(consumers[0]!);
  expect(reply.status).toBe(503);
  expect(reply.body).toMatchObject({ status: 'failure', code: 'UNAVAILABLE' });
});
