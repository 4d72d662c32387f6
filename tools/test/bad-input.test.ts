import { request as httpRequest } from 'node:http';
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

/**
 * Announces a huge body the way curl does (Expect: 100-continue) and returns the HTTP status:
 * the server must refuse it from its declared length, before taking any of it.
 */
function postLargeBody(url: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': bytes, expect: '100-continue' } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    request.flushHeaders();
  });
}

async function expectNothingWritten(): Promise<void> {
  expect((await rest.size('good', consumer)).body).toMatchObject({ status: 'success', size: 0 });
}

test.each([
  ['duplicate topic', 409, 'ALREADY_EXISTS', () => rest.createTopic('good')],
  ['invalid topic name', 400, 'INVALID_ARGUMENT', () => rest.createTopic('bad name!')],
  ['too long topic name', 400, 'INVALID_ARGUMENT', () => rest.createTopic('x'.repeat(250))],
  ['zero partitions', 400, 'INVALID_ARGUMENT', () => rest.createTopic('zero', 0)],
  ['fractional partitions', 400, 'INVALID_ARGUMENT', () => rest.post('/topics', { topic_name: 'frac', partitions: 1.5 })],
  ['malformed JSON', 400, 'INVALID_ARGUMENT', () => rest.post('/topics', '{"topic_name":', true)],
  ['wrong type of name', 400, 'INVALID_ARGUMENT', () => rest.post('/topics', { topic_name: 42 })],
  ['unknown topic on produce', 404, 'NOT_FOUND', () => rest.produce('nope', producer, 'x')],
  ['unknown producer', 404, 'NOT_FOUND', () => rest.produce('good', 999_999, 'x')],
  ['unknown partition', 404, 'NOT_FOUND', () => rest.produce('good', producer, 'x', { partition_id: 7 })],
  ['missing message', 400, 'INVALID_ARGUMENT', () => rest.post('/producer/produce', { topic: 'good', producer_id: producer })],
  ['message of the wrong type', 400, 'INVALID_ARGUMENT', () => rest.post('/producer/produce', { topic: 'good', producer_id: producer, message: { a: 1 } })],
  ['producer id as text', 400, 'INVALID_ARGUMENT', () => rest.post('/producer/produce', { topic: 'good', producer_id: 'one', message: 'x' })],
  ['message over 1 MiB', 413, 'PAYLOAD_TOO_LARGE', () => rest.produce('good', producer, 'x'.repeat(1024 * 1024 + 1))],
  ['unknown topic on consumer register', 404, 'NOT_FOUND', () => rest.post('/consumer/register', { topic: 'nope' })],
  ['unknown consumer', 404, 'NOT_FOUND', () => rest.consume('good', 999_999)],
  ['consumer id not an integer', 400, 'INVALID_ARGUMENT', () => rest.get('/consumer/consume', { topic: 'good', consumer_id: 'abc' })],
] as const)('%s -> %i %s, nothing written', async (_name, status, code, call) => {
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
  const status = await postLargeBody(`${cluster.gatewayUrl}/producer/produce`, 40 * 1024 * 1024);
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  await expectNothingWritten();
});
