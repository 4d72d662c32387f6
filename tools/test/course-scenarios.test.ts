import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

// The course's scenarios, end to end through the gateway's REST API against real processes.
jest.setTimeout(120_000);

let cluster: TestCluster;
let rest: RestClient;

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 3, replicas: 1 });
  rest = new RestClient(cluster.gatewayUrl);
});

afterAll(async () => {
  await cluster?.dispose();
});

/** Per partition, offsets strictly increase and each producer's messages keep their order. */
function expectOrdered(received: { message: string; partition_id: number; offset: number }[]): void {
  const lastOffset = new Map<number, number>();
  const lastSeqPerProducerPartition = new Map<string, number>();
  for (const m of received) {
    const previous = lastOffset.get(m.partition_id) ?? -1;
    expect(m.offset).toBeGreaterThan(previous);
    lastOffset.set(m.partition_id, m.offset);
    const [producer, , seq] = m.message.split(':');
    const key = `${producer}@${m.partition_id}`;
    expect(Number(seq)).toBeGreaterThan(lastSeqPerProducerPartition.get(key) ?? -1);
    lastSeqPerProducerPartition.set(key, Number(seq));
  }
}

test('1 producer / 1 consumer on topic "DS"', async () => {
  const producer = await rest.registerProducer('DS');
  const consumer = await rest.registerConsumer('DS');
  const sent: string[] = [];
  for (let i = 0; i < 30; i++) {
    const message = `P1:DS:${i}`;
    const answer = await rest.produce('DS', producer, message);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'success' });
    expect(typeof answer.body.offset).toBe('number');
    sent.push(message);
  }
  const size = await rest.size('DS', consumer);
  expect(size.body).toMatchObject({ status: 'success', size: 30 });
  // The replica serving the consumer exports its lag per partition; it adds up to the size.
  const metrics = await (await fetch(`${cluster.find('replica').spec.url}/metrics`)).text();
  const lag = [...metrics.matchAll(new RegExp(`^partq_replica_consumer_lag\\{[^}]*consumer="${consumer}"[^}]*\\} (\\d+)$`, 'gm'))];
  expect(lag.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(30);

  const received = await rest.drain('DS', consumer);
  expect(received.map((m) => m.message).sort()).toEqual([...sent].sort());
  expectOrdered(received);
  const empty = await rest.consume('DS', consumer);
  expect(empty.body).toMatchObject({ status: 'failure', code: 'EMPTY' });
  expect((await rest.size('DS', consumer)).body).toMatchObject({ size: 0 });
});

test('5 producers / 3 consumers over 3 topics: every consumer gets exactly its topics, once, in order', async () => {
  const subscriptions: Record<string, string[]> = { T1: ['C1', 'C2', 'C3'], T2: ['C1'], T3: ['C1', 'C2', 'C3'] };
  const publishers: Record<string, string[]> = { T1: ['P1', 'P2', 'P3'], T2: ['P1', 'P4', 'P5'], T3: ['P1', 'P2'] };
  for (const topic of Object.keys(subscriptions)) expect((await rest.createTopic(topic, 3)).status).toBe(201);

  const consumerIds = new Map<string, number>(); // "C1@T1" -> id
  for (const [topic, consumers] of Object.entries(subscriptions)) {
    for (const c of consumers) consumerIds.set(`${c}@${topic}`, await rest.registerConsumer(topic));
  }
  const producerIds = new Map<string, number>();
  for (const [topic, producers] of Object.entries(publishers)) {
    for (const p of producers) producerIds.set(`${p}@${topic}`, await rest.registerProducer(topic));
  }

  const perProducer = 40;
  const expected = new Map<string, string[]>(); // topic -> messages
  await Promise.all(
    [...producerIds.entries()].map(async ([name, id]) => {
      const [producer, topic] = name.split('@') as [string, string];
      for (let i = 0; i < perProducer; i++) {
        const message = `${producer}:${topic}:${i}`;
        const answer = await rest.produce(topic, id, message);
        expect(answer.body).toMatchObject({ status: 'success' });
        expected.set(topic, [...(expected.get(topic) ?? []), message]);
      }
    }),
  );

  for (const [name, id] of consumerIds) {
    const topic = name.split('@')[1]!;
    const received = await rest.drain(topic, id);
    expect(received.map((m) => m.message).sort()).toEqual([...expected.get(topic)!].sort());
    expect(new Set(received.map((m) => m.message)).size).toBe(received.length);
    expectOrdered(received);
  }
});

test('payloads round-trip byte for byte', async () => {
  const producer = await rest.registerProducer('bytes');
  const consumer = await rest.registerConsumer('bytes', 0);
  const payloads = ['héllo wörld ✓ 🚀', 'quote " and \' and \\ back', 'nul\u0000inside', "'; DROP TABLE messages;--", '', ' '.repeat(3)];
  for (const message of payloads) {
    expect((await rest.produce('bytes', producer, message, { partition_id: 0 })).body).toMatchObject({ status: 'success', partition_id: 0 });
  }
  const received = await rest.drain('bytes', consumer);
  expect(received.map((m) => m.message)).toEqual(payloads);
});

test('a retried produce with the same sequence lands once', async () => {
  const producer = await rest.registerProducer('idem');
  const consumer = await rest.registerConsumer('idem');
  const first = await rest.produce('idem', producer, 'once', { sequence: 1 });
  const retry = await rest.produce('idem', producer, 'once', { sequence: 1 });
  expect(first.body).toMatchObject({ status: 'success' });
  expect(retry.body).toMatchObject({ status: 'success', partition_id: first.body.partition_id, offset: first.body.offset });
  await rest.produce('idem', producer, 'twice', { sequence: 2 });
  expect((await rest.drain('idem', consumer)).map((m) => m.message).sort()).toEqual(['once', 'twice']);
});

test('a consume retried with the same request id gets the same message, then the next id moves on', async () => {
  const producer = await rest.registerProducer('retry-consume');
  const consumer = await rest.registerConsumer('retry-consume', 0);
  for (const m of ['a', 'b']) await rest.produce('retry-consume', producer, m, { partition_id: 0 });
  const first = await rest.get('/consumer/consume', { topic: 'retry-consume', consumer_id: consumer, request_id: 'r1' });
  const again = await rest.get('/consumer/consume', { topic: 'retry-consume', consumer_id: consumer, request_id: 'r1' });
  expect(first.body).toMatchObject({ status: 'success', message: 'a', offset: 0 });
  expect(again.body).toMatchObject({ status: 'success', message: 'a', offset: 0 });
  const next = await rest.get('/consumer/consume', { topic: 'retry-consume', consumer_id: consumer, request_id: 'r2' });
  expect(next.body).toMatchObject({ status: 'success', message: 'b', offset: 1 });
  expect((await rest.get('/consumer/consume', { topic: 'retry-consume', consumer_id: consumer, request_id: 'r3' })).body).toMatchObject({ code: 'EMPTY' });
});
