import { expectFailure, post, request } from './http.js';
import { startFakeCluster, type FakeCluster } from './fakes/fake-cluster.js';
import { waitUntil } from './wait.js';

const PRODUCE_TIMEOUT_MS = 600;
let cluster: FakeCluster;
let producerId: number;
let topicId: number;

beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 2, gateway: { produceTimeoutMs: PRODUCE_TIMEOUT_MS } });
  await post(app(), '/topics', { topic_name: 'moving', partitions: 1 });
  topicId = cluster.state.topicByName('moving')!.id;
  producerId = (await post(app(), '/producer/register', { topic: 'moving' })).body.producer_id;
});
afterEach(() => {
  cluster.state.muted = false;
  for (const broker of cluster.brokers) broker.clearFailures();
});
afterAll(async () => {
  await cluster.stop();
});
const app = () => cluster.gateway.app;
const produce = (message: string) => post(app(), '/producer/produce', { topic: 'moving', producer_id: producerId, message });
const log = () => cluster.state.log(topicId, 0);
const owner = () => cluster.brokers.find((b) => b.broker.id === cluster.state.partition(topicId, 0).brokerId)!;
const other = () => cluster.brokers.find((b) => b !== owner())!;

test('STALE_EPOCH: the write is retried with the new epoch once the view changes', async () => {
  const before = log().length;
  const broker = owner();
  const staleEpoch = cluster.state.partition(topicId, 0).epoch;
  cluster.state.muted = true; // the new epoch reaches neither the stream nor (yet) this gateway
  cluster.state.movePartition(topicId, 0, broker.broker.id);
  const attempts = broker.appends.length;

  const pending = produce('after the epoch moved');
  await waitUntil(() => broker.appends.length > attempts, 'the refused append');
  expect(broker.appends[attempts]!.epoch).toBe(staleEpoch);
  cluster.state.muted = false;
  cluster.state.publishPartition(topicId, 0);

  const reply = await pending;
  expect(reply.status).toBe(200);
  expect(reply.body).toMatchObject({ status: 'success', partition_id: 0, offset: before });
  expect(broker.appends.at(-1)!.epoch).toBe(staleEpoch + 1);
  expect(log()).toHaveLength(before + 1);
  expect(cluster.gateway.view.partition(topicId, 0)!.epoch).toBe(staleEpoch + 1);
});

test('a change the stream never brings is fetched from the manager', async () => {
  const refreshes = cluster.manager.calls.get('getMetadata') ?? 0;
  cluster.state.muted = true;
  cluster.state.movePartition(topicId, 0, owner().broker.id);
  const reply = await produce('found through GetMetadata');
  expect(reply.status).toBe(200);
  expect(cluster.manager.calls.get('getMetadata')).toBeGreaterThan(refreshes);
});

test('NOT_OWNER: the write follows the partition to its new broker', async () => {
  const from = owner();
  const to = other();
  cluster.state.muted = true;
  cluster.state.movePartition(topicId, 0, to.broker.id);
  const toAppends = to.appends.length;
  const reply = await produce('moved');
  expect(reply.status).toBe(200);
  expect(from.appends.at(-1)!.records[0]!.payload).toEqual(Buffer.from('moved'));
  expect(to.appends).toHaveLength(toAppends + 1);
  expect(Buffer.from(log().at(-1)!.payload).toString()).toBe('moved');
});

test('a new owner gets a fresh backoff: the one that grew against the owner being left does not hold the write', async () => {
  const from = owner();
  const to = other();
  from.failNext('NOT_OWNER', 1_000); // fenced: moving away
  const attempts = from.appends.length;
  const pending = produce('after a long fence');
  // Five refusals: waits of 20, 40, 80 and 160 ms between them, the next would be 320 and then 640.
  await waitUntil(() => from.appends.length >= attempts + 5, 'five refused appends');
  // The heir refuses the first try (it has not taken the partition yet), then takes it.
  to.failNext('NOT_OWNER', 1);
  const toAttempts = to.appends.length;
  cluster.state.movePartition(topicId, 0, to.broker.id);
  const reply = await pending;
  // With the grown backoff the next try would come after the produce timeout (600 ms): a 503.
  expect(reply.status).toBe(200);
  expect(to.appends.length - toAttempts).toBe(2);
  expect(Buffer.from(log().at(-1)!.payload).toString()).toBe('after a long fence');
});

test('UNAVAILABLE: the write is retried until the broker answers', async () => {
  const broker = owner();
  broker.failNext('UNAVAILABLE', 2);
  const attempts = broker.appends.length;
  const reply = await produce('third time lucky');
  expect(reply.status).toBe(200);
  expect(broker.appends.length - attempts).toBe(3);
});

test('a write the broker never acknowledges is never answered as a success', async () => {
  const before = log().length;
  owner().failNext('UNAVAILABLE', 10_000);
  const reply = await produce('never acknowledged');
  // Out of time between attempts (503), or during the last one (504): either way, not a success.
  expect([503, 504]).toContain(reply.status);
  expect(reply.body).toMatchObject({ status: 'failure', code: reply.status === 503 ? 'UNAVAILABLE' : 'DEADLINE_EXCEEDED' });
  expect(log()).toHaveLength(before);
});

test('an append stuck on a stopped broker is abandoned when the partition moves', async () => {
  const stuck = owner();
  const heir = other();
  stuck.stallNext();
  const attempts = stuck.appends.length;
  const pending = produce('not held hostage');
  await waitUntil(() => stuck.appends.length > attempts, 'the stalled append');
  cluster.state.movePartition(topicId, 0, heir.broker.id);
  const reply = await pending;
  expect(reply.status).toBe(200);
  expect(heir.appends.at(-1)!.records[0]!.payload).toEqual(Buffer.from('not held hostage'));
});

test('keyless requests leave a partition whose Append is stuck for the next one', async () => {
  await post(app(), '/topics', { topic_name: 'spread-stall', partitions: 2 });
  const spreadId = cluster.state.topicByName('spread-stall')!.id;
  const id = (await post(app(), '/producer/register', { topic: 'spread-stall' })).body.producer_id;
  const send = (message: string) => post(app(), '/producer/produce', { topic: 'spread-stall', producer_id: id, message });
  // Learn the topic's current partition (it stays there until 16 KiB have gone to it), then stall
  // the broker that owns it.
  const current = (await send('first')).body.partition_id as number;
  const other = (current + 1) % 2;
  const stalledOwner = cluster.brokers.find((b) => b.broker.id === cluster.state.partition(spreadId, current).brokerId)!;
  stalledOwner.stallNext();
  const attempts = stalledOwner.appends.length;
  const held = send('held');
  await waitUntil(() => stalledOwner.appends.length > attempts, 'the stalled append');

  // Past the stall limit (200 ms) new requests go to the other partition and are answered at once.
  await new Promise((resolve) => setTimeout(resolve, 250));
  const started = Date.now();
  const moved = await send('moved on');
  expect(moved.status).toBe(200);
  expect(moved.body.partition_id).toBe(other);
  expect(Date.now() - started).toBeLessThan(PRODUCE_TIMEOUT_MS / 2);
  // The stuck one is abandoned at its deadline, not answered as written.
  expect([503, 504]).toContain((await held).status);
  const metrics = await request(app(), { method: 'GET', url: '/metrics' });
  expect(metrics.raw).toMatch(/partq_gateway_stalled_partition_skips_total\{topic="spread-stall"[^}]*\} 1/);
});

test('an error that is not about routing is answered at once', async () => {
  const broker = owner();
  broker.failNext('INVALID_ARGUMENT');
  const attempts = broker.appends.length;
  expectFailure(await produce('refused'), 400, 'INVALID_ARGUMENT');
  expect(broker.appends.length - attempts).toBe(1);
});

// Last: the broker it stops stays gone.
test('a broker that is gone: the write waits for the partition to move, then lands there', async () => {
  const gone = owner();
  const heir = other();
  await gone.close();
  const pending = produce('survives a dead broker');
  await new Promise((resolve) => setTimeout(resolve, 100));
  cluster.state.movePartition(topicId, 0, heir.broker.id);
  const reply = await pending;
  expect(reply.status).toBe(200);
  expect(Buffer.from(log().at(-1)!.payload).toString()).toBe('survives a dead broker');
  expect(heir.appends.at(-1)!.epoch).toBe(cluster.state.partition(topicId, 0).epoch);
});
