import { Consumer } from '@partq/consumer';
import { Producer } from '@partq/producer';
import { Client } from 'pg';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';
import { waitFor } from './support/wait-for.js';

/*
 * The Central DB refuses the manager's syncs for a while, as it does when its disk is full (a
 * CHECK that no row passes stands in for the full disk here: it fails the same COPY the same way,
 * without root or a small disk). Brokers keep taking acks=broker sends; acks=all sends wait; the
 * manager stays up and says so on /metrics; once the database takes rows again, everything held
 * back commits and each message is read once.
 */
jest.setTimeout(120_000);

const PAYLOAD = Buffer.alloc(512, 'r');
const SENT = 3121; // 100 + 3 000 + 20 acks=all + the one whose sender gave up, which still lands

let cluster: TestCluster;
let database: Client;

beforeAll(async () => {
  // A short produce timeout, so that an acks=all send with no retries times out within the test.
  cluster = await startTestCluster({ brokers: 2, replicas: 1, env: { gateway: { PARTQ_PRODUCE_TIMEOUT: '2s' } } });
  database = new Client({ connectionString: cluster.databaseUrl });
  await database.connect();
});

afterAll(async () => {
  await database?.end();
  await cluster?.dispose();
});

test('while the Central DB refuses records, acks=broker goes on and acks=all waits; afterwards everything commits once', async () => {
  const producer = new Producer({ urls: [cluster.gatewayUrl], acks: 'broker' });
  const consumer = new Consumer({ urls: [cluster.gatewayUrl] });
  const managerPid = cluster.find('manager').pid;
  try {
    await producer.createTopic('refused', { partitions: 2 });
    await consumer.register('refused', { from: 'earliest' });
    await Promise.all(Array.from({ length: 100 }, () => producer.send('refused', { value: PAYLOAD })));

    await database.query('ALTER TABLE record_batches ADD CONSTRAINT refuse_every_row CHECK (false) NOT VALID');
    const before = await syncMetrics();
    await Promise.all(Array.from({ length: 3000 }, () => producer.send('refused', { value: PAYLOAD })));
    let durableSettled = 0;
    const durable = Array.from({ length: 20 }, () =>
      producer.send('refused', { value: PAYLOAD }, { acks: 'all' }).finally(() => {
        durableSettled++;
      }),
    );
    await waitFor('the manager to report failing syncs', async () => ((await syncMetrics()).failingBrokers >= 1 ? true : undefined));
    expect((await syncMetrics()).failures).toBeGreaterThan(before.failures);
    // The status page lists it among its problems.
    const status = (await (await fetch(new URL('/ui/api/status', cluster.gatewayUrl))).json()) as { problems: string[] };
    expect(status.problems).toContainEqual(expect.stringMatching(/^broker \d+'s records are not being committed to PostgreSQL: the central database refused the records/));
    // GET /health says so too, why, and since when, without the database's own text.
    const failing = (await healthOf()).failing_syncs;
    expect(failing.length).toBeGreaterThanOrEqual(1);
    for (const sync of failing) {
      expect(sync).toMatchObject({ reason: 'the central database refused the records', last_synced: expect.any(String) });
      expect(Date.now() - sync.last_synced_ms).toBeLessThan(60_000);
    }
    expect(durableSettled).toBe(0);
    expect(cluster.find('manager').pid).toBe(managerPid);
    // One that does not retry is told what it waited for.
    const impatient = new Producer({ urls: [cluster.gatewayUrl], acks: 'all', retry: { deadlineMs: 0 } });
    try {
      await expect(impatient.send('refused', { value: PAYLOAD })).rejects.toMatchObject({
        code: 'TIMEOUT',
        message: expect.stringMatching(/^broker \d+ did not answer within the produce timeout \(2000 ms\) to confirm that the central database committed the records \(acks=all\)$/),
      });
    } finally {
      await impatient.close();
    }

    await database.query('ALTER TABLE record_batches DROP CONSTRAINT refuse_every_row');
    await Promise.all(durable);
    await waitFor('the syncs to work again', async () => ((await syncMetrics()).failingBrokers === 0 ? true : undefined));
    expect((await healthOf()).failing_syncs).toEqual([]);
    const { rows } = await database.query<{ records: string }>('SELECT coalesce(sum(next_offset - base_offset), 0)::text AS records FROM record_batches');
    expect(Number(rows[0]!.records)).toBeGreaterThanOrEqual(SENT);

    const seen = new Set<string>();
    for await (const message of consumer.messages('refused')) {
      const id = `${message.partition}/${message.offset}`;
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      if (seen.size === SENT) break;
    }
    expect(seen.size).toBe(SENT);
    expect(cluster.find('manager').pid).toBe(managerPid);
  } finally {
    await consumer.close();
    await producer.close();
  }
});

/** The manager's sync failure series on /metrics. */
async function syncMetrics(): Promise<{ failures: number; failingBrokers: number }> {
  const text = await (await fetch(new URL('/metrics', cluster.managerUrl))).text();
  const value = (name: string): number => Number(text.split('\n').find((line) => line.startsWith(name))?.split(' ').pop() ?? NaN);
  return { failures: value('partq_manager_sync_failures_total'), failingBrokers: value('partq_manager_sync_failing_brokers') };
}

/** GET /health's list of brokers whose syncs keep failing. */
async function healthOf(): Promise<{ failing_syncs: { broker_id: number; reason: string; last_synced: string | null; last_synced_ms: number }[] }> {
  const response = await fetch(new URL('/health', cluster.gatewayUrl));
  expect(response.status).toBe(200);
  return (await response.json()) as { failing_syncs: { broker_id: number; reason: string; last_synced: string | null; last_synced_ms: number }[] };
}
