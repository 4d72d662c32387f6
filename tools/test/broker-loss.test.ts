import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';
import { sleep, waitFor } from './support/wait-for.js';

/*
 * When a broker counts as lost. A manager that was itself not running declares no broker dead
 * for it, nor a replica silent.
 */
jest.setTimeout(180_000);

const BROKER_TIMEOUT_MS = 2000;

let cluster: TestCluster;
let rest: RestClient;

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 2, replicas: 1, restart: false, env: { manager: { PARTQ_BROKER_TIMEOUT: `${BROKER_TIMEOUT_MS}ms` } } });
  rest = new RestClient(cluster.gatewayUrl);
});

afterAll(async () => {
  await cluster?.dispose();
});

interface BrokerView {
  broker_id: number;
  address: string;
  state: string;
  partitions: { topic: string; partition_id: number; epoch: number }[];
}

async function brokers(): Promise<BrokerView[]> {
  const response = await fetch(new URL('/admin/brokers', cluster.gatewayUrl), { headers: { authorization: `Bearer ${cluster.adminToken}` } });
  const body = (await response.json()) as { brokers: BrokerView[] };
  return body.brokers;
}

test('a manager stopped for longer than the broker timeout declares no broker dead when it resumes', async () => {
  await rest.createTopic('paused', 2);
  const consumer = await rest.registerConsumer('paused');
  const before = await brokers();
  expect(before.map((b) => b.state)).toEqual(['alive', 'alive']);
  const manager = cluster.find('manager', 1);
  await manager.kill('SIGSTOP');
  try {
    await sleep(BROKER_TIMEOUT_MS * 3);
  } finally {
    await manager.kill('SIGCONT');
  }
  // Long enough for a verdict on the stale heartbeats, and for the resumed ones to arrive.
  await sleep(BROKER_TIMEOUT_MS * 2);
  const after = await brokers();
  expect(after.map((b) => ({ id: b.broker_id, state: b.state, partitions: b.partitions }))).toEqual(
    before.map((b) => ({ id: b.broker_id, state: b.state, partitions: b.partitions })),
  );
  // Nor the replica silent: consumers are still served.
  expect((await rest.consume('paused', consumer)).body).toMatchObject({ status: 'failure', code: 'EMPTY' });
});

test('a replica silent for longer than the timeout serves consumers again once it is heard from', async () => {
  await rest.createTopic('silent', 1);
  const producer = await rest.registerProducer('silent');
  const consumer = await rest.registerConsumer('silent');
  const replica = cluster.find('replica', 1);
  await replica.kill('SIGSTOP');
  try {
    await sleep(BROKER_TIMEOUT_MS * 2);
  } finally {
    await replica.kill('SIGCONT');
  }
  expect((await rest.produce('silent', producer, 'back')).body).toMatchObject({ status: 'success' });
  const answer = await waitFor('the replica to serve again', async () => {
    const consumed = await rest.consume('silent', consumer);
    return consumed.body.status === 'success' ? consumed.body : undefined;
  });
  expect(answer).toMatchObject({ message: 'back' });
});
