import { Consumer } from '@partq/consumer';
import { Producer } from '@partq/producer';
import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';
import { waitFor } from './support/wait-for.js';

// Clients registered and left idle, on a real cluster: after the manager's expiry a consumer is
// gone, so it no longer holds back retention for the consumer that keeps reading, and a producer is
// gone too: @partq/producer registers again by itself, a REST producer is told NOT_FOUND.
jest.setTimeout(120_000);

/** The records of a partition retention always keeps (the brokers' idempotence window). */
const KEEP_LAST = 8192;
const COUNT = 10_000;

let cluster: TestCluster;
let rest: RestClient;
let producer: Producer;
let reader: Consumer;

beforeAll(async () => {
  cluster = await startTestCluster({
    brokers: 1,
    replicas: 1,
    env: { manager: { PARTQ_CONSUMER_EXPIRY: '3s', PARTQ_PRODUCER_EXPIRY: '3s', PARTQ_RETENTION_INTERVAL: '200ms' } },
  });
  rest = new RestClient(cluster.gatewayUrl);
  producer = new Producer({ urls: [cluster.gatewayUrl] });
  reader = new Consumer({ urls: [cluster.gatewayUrl] });
});

afterAll(async () => {
  await Promise.all([producer?.close(), reader?.close()]);
  await cluster?.dispose();
});

test('an abandoned consumer is removed after the expiry and stops holding back retention; one that keeps reading stays', async () => {
  expect((await rest.createTopic('expiring', 1)).status).toBe(201);
  const abandoned = await rest.registerConsumer('expiring');
  await reader.register('expiring');
  for (let from = 0; from < COUNT; from += 1000) await producer.send('expiring', Array.from({ length: 1000 }, (_, i) => `m${from + i}`));

  // The reader takes everything and keeps calling (activity); the abandoned consumer never calls.
  let read = 0;
  const startOffset = async () => {
    const answer = await rest.get('/topics/partitions', { topic_name: 'expiring' });
    return (answer.body.partitions as { start_offset: number }[])[0]!.start_offset;
  };
  // Once it is gone, only the reader's position (the end, soon) and the idempotence window hold the log.
  await waitFor('retention past the abandoned consumer', async () => {
    read += (await reader.poll('expiring', { maxMessages: 1000 })).length;
    const start = await startOffset();
    expect(start).toBeLessThanOrEqual(COUNT - KEEP_LAST);
    // The client may hold a delivered batch it has not handed out yet: read on until all came.
    return start === COUNT - KEEP_LAST && read === COUNT ? start : undefined;
  });
  expect(read).toBe(COUNT);

  const gone = await rest.consume('expiring', abandoned);
  expect(gone.status).toBe(404);
  expect(gone.body).toMatchObject({ status: 'failure', code: 'NOT_FOUND' });
  const health = await rest.get('/health');
  expect((health.body.consumers as { consumer_id: number }[]).map((c) => c.consumer_id)).not.toContain(abandoned);

  // The reader is still registered and reads what comes next.
  await producer.send('expiring', 'after');
  const next = await waitFor('the next message', async () => (await reader.poll('expiring')).at(0));
  expect(next.text()).toBe('after');
});

test('an idle producer is removed after the expiry: the npm client registers again by itself, a REST producer hears NOT_FOUND', async () => {
  expect((await rest.createTopic('idle-producers', 1)).status).toBe(201);
  const restProducer = await rest.registerProducer('idle-producers');
  const client = new Producer({ urls: [cluster.gatewayUrl] });
  try {
    const first = await client.register('idle-producers');
    expect(await client.send('idle-producers', 'before')).toEqual({ partition: 0, offset: 0 });
    await waitFor('the idle producers removed', async () => {
      const health = await rest.get('/health');
      const ids = (health.body.producers as { producer_id: number }[]).map((p) => p.producer_id);
      return ids.includes(first) || ids.includes(restProducer) ? undefined : true;
    });

    expect(await client.send('idle-producers', ['after', 'again'])).toEqual([
      { partition: 0, offset: 1 },
      { partition: 0, offset: 2 },
    ]);
    const gone = await rest.produce('idle-producers', restProducer, 'late');
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ status: 'failure', code: 'NOT_FOUND' });
  } finally {
    await client.close();
  }
});
