import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

/*
 * When a broker counts as lost, and what a lost broker may not take with it. A manager that
 * was itself not running declares no broker dead for it. Records a broker acknowledged with
 * acks=broker and then lost for good are gone, and the next owner reuses their offsets:
 * consumers that had read them get the records that take those offsets, instead of skipping
 * them.
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('a manager stopped for longer than the broker timeout declares no broker dead when it resumes', async () => {
  await rest.createTopic('paused', 2);
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
});
