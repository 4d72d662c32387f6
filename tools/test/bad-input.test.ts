import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

// Bad input gets a 4xx with a stable code and writes nothing, against the real cluster.
jest.setTimeout(120_000);

let cluster: TestCluster;
let rest: RestClient;
let producer: number;
let consumer: number;

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 2, replicas: 1 });
  rest = new RestClient(cluster.gatewayUrl);
  expect((await rest.createTopic('good', 2)).status).toBe(201);
  producer = await rest.registerProducer('good');
  consumer = await rest.registerConsumer('good');
});

afterAll(async () => {
  await cluster?.dispose();
});

async function expectNothingWritten(): Promise<void> {
  expect((await rest.size('good', consumer)).body).toMatchObject({ status: 'success', size: 0 });
}

test.each([
  ['duplicate topic', () => rest.createTopic('good'), 409, 'ALREADY_EXISTS'],
  ['invalid topic name', () => rest.createTopic('bad name!'), 400, 'INVALID_ARGUMENT'],
  ['too long topic name', () => rest.createTopic('x'.repeat(250)), 400, 'INVALID_ARGUMENT'],
  ['zero partitions', () => rest.createTopic('zero', 0), 400, 'INVALID_ARGUMENT'],
  ['fractional partitions', () => rest.post('/topics', { topic_name: 'frac', partitions: 1.5 }), 400, 'INVALID_ARGUMENT'],
  ['malformed JSON', () => rest.post('/topics', '{"topic_name":', true), 400, 'INVALID_ARGUMENT'],
  ['wrong type of name', () => rest.post('/topics', { topic_name: 42 }), 400, 'INVALID_ARGUMENT'],
  ['unknown topic on produce', () => rest.produce('nope', producer, 'x'), 404, 'NOT_FOUND'],
  ['unknown producer', () => rest.produce('good', 999_999, 'x'), 404, 'NOT_FOUND'],
  ['unknown partition', () => rest.produce('good', producer, 'x', { partition_id: 7 }), 404, 'NOT_FOUND'],
  ['missing message', () => rest.post('/producer/produce', { topic: 'good', producer_id: producer }), 400, 'INVALID_ARGUMENT'],
  ['message of the wrong type', () => rest.post('/producer/produce', { topic: 'good', producer_id: producer, message: { a: 1 } }), 400, 'INVALID_ARGUMENT'],
  ['producer id as text', () => rest.post('/producer/produce', { topic: 'good', producer_id: 'one', message: 'x' }), 400, 'INVALID_ARGUMENT'],
  ['message over 1 MiB', () => rest.produce('good', producer, 'x'.repeat(1024 * 1024 + 1)), 413, 'PAYLOAD_TOO_LARGE'],
  ['unknown topic on consumer register', () => rest.post('/consumer/register', { topic: 'nope' }), 404, 'NOT_FOUND'],
  ['unknown consumer', () => rest.consume('good', 999_999), 404, 'NOT_FOUND'],
  ['consumer id not an integer', () => rest.get('/consumer/consume', { topic: 'good', consumer_id: 'abc' }), 400, 'INVALID_ARGUMENT'],
])('%s -> %i %s, nothing written', async (_name, call, status, code) => {
  const answer = await call();
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ status: 'failure', code });
  expect(typeof answer.body.message).toBe('string');
  await expectNothingWritten();
});

test('producing to a topic the producer did not register for is refused', async () => {
  await rest.createTopic('other', 1);
  const answer = await rest.produce('other', producer, 'x');
  expect(answer.status).toBe(403);
  expect(answer.body).toMatchObject({ status: 'failure', code: 'PERMISSION_DENIED' });
  const otherConsumer = await rest.registerConsumer('other');
  expect((await rest.size('other', otherConsumer)).body).toMatchObject({ size: 0 });
});

test("consuming with another topic's consumer id is refused", async () => {
  const answer = await rest.consume('other', consumer);
  expect(answer.status).toBe(403);
  expect(answer.body).toMatchObject({ status: 'failure', code: 'PERMISSION_DENIED' });
});

test('a batch with one oversize message writes nothing of the batch', async () => {
  const answer = await rest.post('/producer/produce', {
    topic: 'good',
    producer_id: producer,
    messages: [{ message: 'fine' }, { message: 'x'.repeat(1024 * 1024 + 1) }],
  });
  expect(answer.status).toBe(413);
  await expectNothingWritten();
});

test('an over-large body is refused with a 4xx, not a 5xx', async () => {
  const answer = await rest.post('/producer/produce', { topic: 'good', producer_id: producer, message: 'y'.repeat(40 * 1024 * 1024) });
  expect(answer.status).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  await expectNothingWritten();
});
