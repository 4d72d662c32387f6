import { expectFailure, get, post, request } from './http.js';
import { startFakeCluster, type FakeCluster } from './fakes/fake-cluster.js';
import { waitUntil } from './wait.js';

let cluster: FakeCluster;
beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 2, replicas: 1 });
});
afterAll(async () => {
  await cluster.stop();
});
const app = () => cluster.gateway.app;

test('GET /health shows brokers, producers and consumers from the manager', async () => {
  await post(app(), '/topics', { topic_name: 'watched', partitions: 1 });
  const producerId = (await post(app(), '/producer/register', { topic: 'watched' })).body.producer_id;
  const consumerId = (await post(app(), '/consumer/register', { topic: 'watched' })).body.consumer_id;
  const reply = await get(app(), '/health');
  expect(reply.status).toBe(200);
  expect(reply.body.status).toBe('success');
  expect(reply.body.brokers).toEqual(
    cluster.brokers.map((b) => ({
      broker_id: b.broker.id,
      address: b.address,
      state: 'alive',
      last_heartbeat: new Date(Number(b.broker.lastHeartbeatMs)).toISOString(),
      last_heartbeat_ms: Number(b.broker.lastHeartbeatMs),
    })),
  );
  expect(reply.body.producers).toEqual([expect.objectContaining({ producer_id: producerId, topic: 'watched', last_activity: expect.any(String) })]);
  expect(reply.body.consumers).toEqual([expect.objectContaining({ consumer_id: consumerId, topic: 'watched' })]);
  expect(reply.body.replicas).toEqual([expect.objectContaining({ replica_id: cluster.replicas[0]!.replica.id, address: cluster.replicas[0]!.address })]);
});

test('GET /brokers answers from the gateway\'s view', async () => {
  const reply = await get(app(), '/brokers');
  expect(reply.body).toEqual({
    status: 'success',
    brokers: cluster.brokers.map((b) => expect.objectContaining({ broker_id: b.broker.id, address: b.address, state: 'alive' })),
  });
});

test('GET /healthz and GET /readyz', async () => {
  expect((await get(app(), '/healthz')).status).toBe(200);
  const ready = await get(app(), '/readyz');
  expect(ready.status).toBe(200);
});

test('produce and consume activity is reported to the manager and counted in /metrics', async () => {
  const producerId = (await post(app(), '/producer/register', { topic: 'watched' })).body.producer_id;
  const consumerId = (await post(app(), '/consumer/register', { topic: 'watched' })).body.consumer_id;
  await post(app(), '/producer/produce', { topic: 'watched', producer_id: producerId, messages: ['a', 'b', 'c'] });
  expect((await get(app(), '/consumer/consume', { topic: 'watched', consumer_id: consumerId })).body.status).toBe('success');

  const metrics = await request(app(), { method: 'GET', url: '/metrics' });
  expect(metrics.status).toBe(200);
  expect(metrics.raw).toMatch(/partq_gateway_produced_messages_total\{topic="watched"[^}]*\} 3/);
  expect(metrics.raw).toMatch(/partq_gateway_consumed_messages_total\{topic="watched"[^}]*\} 1/);
  expect(metrics.raw).toMatch(/partq_gateway_http_request_duration_seconds_count\{[^}]*route="\/producer\/produce",method="POST",status="200"\} 1/);

  await waitUntil(() => cluster.manager.reportedProducers.has(producerId) && cluster.manager.reportedConsumers.has(consumerId), 'activity report');
});

test('/metrics shows each Append\'s round trip by acks mode and how long produces waited for the one before', async () => {
  await post(app(), '/topics', { topic_name: 'timed', partitions: 1 });
  const producerId = (await post(app(), '/producer/register', { topic: 'timed' })).body.producer_id;
  const before = await metricValues();
  // The first goes alone; the next two, read in one burst, share the following Append (behind it, or after it).
  const produce = (message: string, acks: string) => post(app(), '/producer/produce', { topic: 'timed', producer_id: producerId, message, acks });
  const first = produce('a', 'broker');
  await waitUntil(() => cluster.state.appendRequests.some((r) => r.topicId === cluster.state.topicByName('timed')!.id), 'the first Append');
  await Promise.all([first, produce('b', 'broker'), produce('c', 'broker')]);
  await produce('d', 'all');
  const after = await metricValues();

  const grew = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  expect(grew('partq_gateway_append_duration_seconds_count{acks="broker"}')).toBe(2);
  expect(grew('partq_gateway_append_duration_seconds_count{acks="all"}')).toBe(1);
  expect(grew('partq_gateway_append_duration_seconds_sum{acks="broker"}')).toBeGreaterThan(0);
  expect(grew('partq_gateway_append_wait_seconds_count')).toBe(4);
});

/** Every sample of /metrics by name and labels (the role label left out). */
async function metricValues(): Promise<Map<string, number>> {
  const reply = await request(app(), { method: 'GET', url: '/metrics' });
  const values = new Map<string, number>();
  for (const line of reply.raw.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '').split(',').filter((label) => label && !label.startsWith('role='));
    values.set(labels.length ? `${match[1]}{${labels.join(',')}}` : match[1]!, Number(match[3]));
  }
  return values;
}

test('an unknown route is 404 in the envelope, whatever the method', async () => {
  expectFailure(await get(app(), '/no/such/route'), 404, 'NOT_FOUND');
  expectFailure(await post(app(), '/topics/nope', { x: 1 }), 404, 'NOT_FOUND');
  expectFailure(await request(app(), { method: 'DELETE', url: '/topics' }), 404, 'NOT_FOUND');
});
