import { createHash } from 'node:crypto';
import { get, post } from '../../test/http.js';
import { startFakeCluster, type FakeCluster } from '../../test/fakes/fake-cluster.js';
import type { ClusterStatusSnapshot } from './cluster-status.js';
import { STATUS_PAGE_SCRIPT } from './status-page-html.js';

let cluster: FakeCluster;
beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 2, replicas: 1 });
});
afterAll(async () => {
  await cluster.stop();
});
const app = () => cluster.gateway.app;

/** The cache answers a snapshot for up to 500 ms; ask until it reflects `done`. */
async function statusWhere(done: (status: ClusterStatusSnapshot) => boolean): Promise<ClusterStatusSnapshot> {
  let last: unknown;
  for (let attempt = 0; attempt < 60; attempt++) {
    const reply = await get(app(), '/ui/api/status');
    expect(reply.status).toBe(200);
    if (done(reply.body as ClusterStatusSnapshot)) return reply.body as ClusterStatusSnapshot;
    last = reply.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the status never matched; last: ${JSON.stringify(last)}`);
}

test('GET /ui/api/status shows topics with partitions and offsets, brokers, and consumers with their lag', async () => {
  expect((await post(app(), '/topics', { topic_name: 'ui-orders', partitions: 2 })).status).toBe(201);
  const producerId = (await post(app(), '/producer/register', { topic: 'ui-orders' })).body.producer_id as number;
  const consumerId = (await post(app(), '/consumer/register', { topic: 'ui-orders' })).body.consumer_id as number;
  for (let i = 0; i < 5; i++) {
    expect((await post(app(), '/producer/produce', { topic: 'ui-orders', producer_id: producerId, message: `m${i}`, partition_id: i % 2 })).body.status).toBe('success');
  }

  const status = await statusWhere((s) => s.topics.some((t) => t.name === 'ui-orders' && t.messages === 5) && s.consumers.some((c) => c.consumer_id === consumerId));
  const topic = status.topics.find((t) => t.name === 'ui-orders')!;
  expect(topic.partitions.map((p) => [p.partition_id, p.start_offset, p.end_offset])).toEqual([
    [0, 0, 3],
    [1, 0, 2],
  ]);
  const brokerIds = cluster.brokers.map((b) => b.broker.id);
  for (const p of topic.partitions) expect(brokerIds).toContain(p.broker_id);
  expect(topic.retained).toBe(5);
  expect(status.brokers.map((b) => [b.broker_id, b.state])).toEqual(brokerIds.sort((a, b) => a - b).map((id) => [id, 'alive']));
  expect(status.brokers.reduce((sum, b) => sum + b.partitions, 0)).toBe(2);
  expect(status.replicas).toHaveLength(1);
  expect(status.consumers.find((c) => c.consumer_id === consumerId)).toEqual(
    expect.objectContaining({ topic: 'ui-orders', partition_id: null, lag: 5, status: 'active' }),
  );
  expect(status.producers.map((p) => p.producer_id)).toContain(producerId);
  expect(status.gateway.ready).toBe(true);
  expect(status.problems).toEqual([]);

  // Consuming lowers the lag.
  expect((await get(app(), '/consumer/consume', { topic: 'ui-orders', consumer_id: consumerId })).body.status).toBe('success');
  await statusWhere((s) => s.consumers.find((c) => c.consumer_id === consumerId)?.lag === 4);
});

test('GET /ui/api/status carries this gateway\'s rate history', async () => {
  const status = (await get(app(), '/ui/api/status')).body as ClusterStatusSnapshot;
  expect(status.rates).toEqual(
    expect.objectContaining({ window_ms: 5000, sample_interval_ms: 1000, produce_rate: expect.any(Number), produce_series: expect.any(Array), consume_series: expect.any(Array) }),
  );
});

test('GET /ui is one self-contained page whose inline script and style the CSP allows by hash', async () => {
  for (const url of ['/ui', '/ui/']) {
    const reply = await app().inject({ method: 'GET', url });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(reply.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");

    const scripts = [...reply.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    const styles = [...reply.body.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    expect(scripts).toEqual([STATUS_PAGE_SCRIPT]);
    expect(styles).toHaveLength(1);
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(csp).toContain(`script-src ${hash(scripts[0]!)}`);
    expect(csp).toContain(`style-src ${hash(styles[0]!)}`);
    // Nothing is loaded from elsewhere: no src/href but the empty data: favicon (which spares a request for
    // /favicon.ico), no absolute URL but the SVG namespace.
    expect(reply.body.match(/\s(src|href)="[^"]*"/g)).toEqual([' href="data:,"']);
    expect(reply.body.match(/https?:\/\/[^'"\s)]*/g)).toEqual(['http://www.w3.org/2000/svg']);
  }
});

test('the page script is valid JavaScript', () => {
  expect(() => new Function(STATUS_PAGE_SCRIPT)).not.toThrow();
});
