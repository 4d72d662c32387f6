import { createLogger } from '@partq/runtime';
import { gatewayConfig } from '../src/config.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { expectFailure, get, post } from './http.js';
import { startFakeCluster, type FakeCluster } from './fakes/fake-cluster.js';

const silent = createLogger({ role: 'gateway', instanceId: 'second', level: 'silent' });
let cluster: FakeCluster;
let second: Gateway;

beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 1, replicas: 1 });
  second = await startGateway(gatewayConfig({ port: 0, managerUrl: cluster.manager.url, instanceId: 'gateway-second' }), { logger: silent });
});
afterEach(() => {
  cluster.state.muted = false;
});
afterAll(async () => {
  await cluster.manager.close(); // ends the metadata streams from its side first
  await second.stop();
  await cluster.stop();
});
const first = () => cluster.gateway.app;

test('ids registered through another gateway are found before the stream brings them', async () => {
  cluster.state.muted = true; // the metadata stream lags: only GetMetadata knows
  const topic = await post(second.app, '/topics', { topic_name: 'shared', partitions: 1 });
  expect(topic.status).toBe(201);
  const producerId = (await post(second.app, '/producer/register', { topic: 'shared' })).body.producer_id;
  const consumerId = (await post(second.app, '/consumer/register', { topic: 'shared' })).body.consumer_id;
  expect(cluster.gateway.view.producer(producerId)).toBeUndefined();

  const produced = await post(first(), '/producer/produce', { topic: 'shared', producer_id: producerId, message: 'cross-gateway' });
  expect(produced.status).toBe(200);
  const consumed = await get(first(), '/consumer/consume', { topic: 'shared', consumer_id: consumerId });
  expect(consumed.body).toMatchObject({ status: 'success', message: 'cross-gateway' });
});

test('what this gateway registers it knows at once (read your writes)', async () => {
  cluster.state.muted = true;
  const producerId = (await post(first(), '/producer/register', { topic: 'own-writes' })).body.producer_id;
  expect(cluster.gateway.view.producer(producerId)).toBeDefined();
  const refreshes = cluster.manager.calls.get('getMetadata') ?? 0;
  expect((await post(first(), '/producer/produce', { topic: 'own-writes', producer_id: producerId, message: 'm' })).status).toBe(200);
  expect(cluster.manager.calls.get('getMetadata') ?? 0).toBe(refreshes);
});

test('a miss asks the manager once, then answers NOT_FOUND', async () => {
  const refreshes = cluster.manager.calls.get('getMetadata') ?? 0;
  expectFailure(await post(first(), '/producer/produce', { topic: 'shared', producer_id: 987654, message: 'm' }), 404, 'NOT_FOUND');
  expect(cluster.manager.calls.get('getMetadata')).toBe(refreshes + 1);
});

test('a gateway without metadata says so: /readyz 503, requests 503 UNAVAILABLE', async () => {
  const orphan = await startGateway(gatewayConfig({ port: 0, managerUrl: 'http://127.0.0.1:9', instanceId: 'gateway-orphan' }), {
    logger: silent,
    waitForMetadata: false,
    metadataWaitMs: 50,
  });
  try {
    expect((await get(orphan.app, '/readyz')).status).toBe(503);
    expectFailure(await get(orphan.app, '/topics'), 503, 'UNAVAILABLE');
  } finally {
    await orphan.stop();
  }
});
