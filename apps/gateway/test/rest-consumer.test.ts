import { expectFailure, get, post } from './http.js';
import { startFakeCluster, type FakeCluster } from './fakes/fake-cluster.js';

let cluster: FakeCluster;
let producerId: number;
beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 2, replicas: 1 });
  await post(app(), '/topics', { topic_name: 'feed', partitions: 2 });
  await post(app(), '/topics', { topic_name: 'elsewhere', partitions: 1 });
  producerId = (await post(app(), '/producer/register', { topic: 'feed' })).body.producer_id;
});
afterAll(async () => {
  await cluster.stop();
});
const app = () => cluster.gateway.app;
const produce = (message: string, extra: Record<string, unknown> = {}) =>
  post(app(), '/producer/produce', { topic: 'feed', producer_id: producerId, message, ...extra });
const register = async (body: Record<string, unknown>) => (await post(app(), '/consumer/register', body)).body.consumer_id as number;
const consume = (query: Record<string, string | number>) => get(app(), '/consumer/consume', query);

describe('POST /consumer/register', () => {
  test('answers an integer consumer id', async () => {
    const reply = await post(app(), '/consumer/register', { topic: 'feed' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'success', consumer_id: expect.any(Number) });
  });

  test('an unknown topic is 404; a bad partition 404; bad input 400', async () => {
    expectFailure(await post(app(), '/consumer/register', { topic: 'nope' }), 404, 'NOT_FOUND');
    expectFailure(await post(app(), '/consumer/register', { topic: 'feed', partition_id: 2 }), 404, 'NOT_FOUND');
    expectFailure(await post(app(), '/consumer/register', { topic: 'feed', from: 'middle' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/consumer/register', { topic: 7 }), 400, 'INVALID_ARGUMENT');
  });

  test('an unknown field is 400 and registers nothing', async () => {
    const consumersBefore = cluster.state.consumers.size;
    const reply = await post(app(), '/consumer/register', { topic: 'feed', partition: 1 });
    expectFailure(reply, 400, 'INVALID_ARGUMENT');
    expect(reply.body.message).toBe('body has an unknown field "partition"');
    expect(cluster.state.consumers.size).toBe(consumersBefore);
  });
});

describe('GET /consumer/consume', () => {
  test('nothing pending is EMPTY with HTTP 200', async () => {
    const consumerId = await register({ topic: 'feed' });
    const reply = await consume({ topic: 'feed', consumer_id: consumerId });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'failure', code: 'EMPTY', message: 'no new messages' });
  });

  test('a consumer sees what was produced after it subscribed, byte for byte', async () => {
    await produce('before subscribing', { partition_id: 0 });
    const consumerId = await register({ topic: 'feed', partition_id: 0 });
    const messages = [
      'plain',
      'ünïcødé ✓ 😀 中文',
      'double "quotes" and \'single\'',
      'NUL \u0000 in the middle',
      "'; DROP TABLE messages;--",
      'back\\slash\nnew line\ttab',
      '\ufeffBOM first',
      '',
    ];
    const sent = [];
    for (const message of messages) sent.push((await produce(message, { partition_id: 0 })).body);
    for (const [i, message] of messages.entries()) {
      const reply = await consume({ topic: 'feed', consumer_id: consumerId });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ status: 'success', message, partition_id: 0, offset: sent[i].offset });
      // The raw JSON decodes to the same bytes as were sent.
      expect(Buffer.from(JSON.parse(reply.raw).message, 'utf8').equals(Buffer.from(message, 'utf8'))).toBe(true);
    }
    expect((await consume({ topic: 'feed', consumer_id: consumerId })).body.code).toBe('EMPTY');
  });

  test('from "earliest" starts at the first retained offset', async () => {
    const consumerId = await register({ topic: 'feed', partition_id: 0, from: 'earliest' });
    const reply = await consume({ topic: 'feed', consumer_id: consumerId });
    expect(reply.body).toMatchObject({ status: 'success', message: 'before subscribing', offset: 0 });
  });

  test('the key comes back when the message has one', async () => {
    const consumerId = await register({ topic: 'feed', partition_id: 1 });
    await produce('keyed', { partition_id: 1, key: 'k-1' });
    const reply = await consume({ topic: 'feed', consumer_id: consumerId });
    expect(reply.body).toMatchObject({ status: 'success', message: 'keyed', key: 'k-1', partition_id: 1 });
  });

  test('bytes that are not UTF-8 come back as base64, and base64 can be asked for', async () => {
    const consumerId = await register({ topic: 'feed', partition_id: 1 });
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    await produce(binary.toString('base64'), { partition_id: 1, encoding: 'base64' });
    await produce('text', { partition_id: 1 });
    const first = await consume({ topic: 'feed', consumer_id: consumerId });
    expect(first.body).toMatchObject({ status: 'success', message: binary.toString('base64'), encoding: 'base64' });
    const second = await consume({ topic: 'feed', consumer_id: consumerId, encoding: 'base64' });
    expect(second.body).toMatchObject({ status: 'success', message: Buffer.from('text').toString('base64'), encoding: 'base64' });
  });

  test('a whole-topic consumer reads every partition', async () => {
    const consumerId = await register({ topic: 'feed' });
    await produce('to 0', { partition_id: 0 });
    await produce('to 1', { partition_id: 1 });
    const got = [(await consume({ topic: 'feed', consumer_id: consumerId })).body, (await consume({ topic: 'feed', consumer_id: consumerId })).body];
    expect(got.map((m) => m.message).sort()).toEqual(['to 0', 'to 1']);
    const narrowed = await register({ topic: 'feed' });
    await produce('only 1', { partition_id: 1 });
    expect((await consume({ topic: 'feed', consumer_id: narrowed, partition_id: 1 })).body).toMatchObject({ message: 'only 1', partition_id: 1 });
  });

  test('another topic\'s consumer is 403; a partition it did not subscribe 403; out of range 404', async () => {
    const other = await register({ topic: 'elsewhere' });
    expectFailure(await consume({ topic: 'feed', consumer_id: other }), 403, 'PERMISSION_DENIED');
    const pinned = await register({ topic: 'feed', partition_id: 0 });
    expectFailure(await consume({ topic: 'feed', consumer_id: pinned, partition_id: 1 }), 403, 'PERMISSION_DENIED');
    expectFailure(await consume({ topic: 'feed', consumer_id: pinned, partition_id: 5 }), 404, 'NOT_FOUND');
  });

  test('an unknown consumer or topic is 404', async () => {
    expectFailure(await consume({ topic: 'feed', consumer_id: 424242 }), 404, 'NOT_FOUND');
    expectFailure(await consume({ topic: 'missing', consumer_id: 1 }), 404, 'NOT_FOUND');
  });

  test('a consumer_id that is not an integer, or missing parameters, are 400', async () => {
    expectFailure(await consume({ topic: 'feed', consumer_id: 'abc' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await consume({ topic: 'feed', consumer_id: '1.5' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await consume({ topic: 'feed', consumer_id: '-1' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await consume({ topic: 'feed', consumer_id: '99999999999' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await consume({ topic: 'feed' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await consume({ consumer_id: 1 }), 400, 'INVALID_ARGUMENT');
    expectFailure(await consume({ topic: 'bad name', consumer_id: 1 }), 400, 'INVALID_ARGUMENT');
  });

  test('max_messages answers up to that many messages as a list, in offset order, and an empty list when nothing is pending', async () => {
    const consumerId = await register({ topic: 'feed', partition_id: 1 });
    for (const message of ['m0', 'm1', 'm2']) await produce(message, { partition_id: 1 });
    const first = await consume({ topic: 'feed', consumer_id: consumerId, max_messages: 2 });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      status: 'success',
      messages: [
        { message: 'm0', partition_id: 1, offset: expect.any(Number) },
        { message: 'm1', partition_id: 1, offset: expect.any(Number) },
      ],
    });
    expect(first.body.messages[1].offset).toBe(first.body.messages[0].offset + 1);
    expect((await consume({ topic: 'feed', consumer_id: consumerId, max_messages: 10 })).body.messages.map((m: { message: string }) => m.message)).toEqual(['m2']);
    expect((await consume({ topic: 'feed', consumer_id: consumerId, max_messages: 10 })).body).toEqual({ status: 'success', messages: [] });
  });

  test('max_messages out of 1-1000 or not an integer is 400 and moves nothing', async () => {
    const consumerId = await register({ topic: 'feed', partition_id: 1 });
    await produce('still there', { partition_id: 1 });
    for (const max of ['0', '1001', '2.5', 'all']) {
      expectFailure(await consume({ topic: 'feed', consumer_id: consumerId, max_messages: max }), 400, 'INVALID_ARGUMENT');
    }
    expect((await consume({ topic: 'feed', consumer_id: consumerId })).body.message).toBe('still there');
  });

  test('an unknown parameter is 400 and moves nothing: a misspelt request_id would lose its retry', async () => {
    const consumerId = await register({ topic: 'feed' });
    await produce('kept for the next consume', { partition_id: 0 });
    const reply = await consume({ topic: 'feed', consumer_id: consumerId, requestid: 'r-1' });
    expectFailure(reply, 400, 'INVALID_ARGUMENT');
    expect(reply.body.message).toBe('querystring has an unknown field "requestid"');
    expect((await consume({ topic: 'feed', consumer_id: consumerId })).body.message).toBe('kept for the next consume');
  });
});

describe('GET /size', () => {
  test('counts what is pending, in all and per partition', async () => {
    const consumerId = await register({ topic: 'feed' });
    await produce('a', { partition_id: 0 });
    await produce('b', { partition_id: 1 });
    await produce('c', { partition_id: 1 });
    const reply = await get(app(), '/size', { topic: 'feed', consumer_id: consumerId });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: 'success',
      size: 3,
      partitions: [
        { partition_id: 0, size: 1 },
        { partition_id: 1, size: 2 },
      ],
    });
    await consume({ topic: 'feed', consumer_id: consumerId });
    expect((await get(app(), '/size', { topic: 'feed', consumer_id: consumerId })).body.size).toBe(2);
  });

  test('the same checks as consume', async () => {
    const other = await register({ topic: 'elsewhere' });
    expectFailure(await get(app(), '/size', { topic: 'feed', consumer_id: other }), 403, 'PERMISSION_DENIED');
    expectFailure(await get(app(), '/size', { topic: 'feed', consumer_id: 5555 }), 404, 'NOT_FOUND');
    expectFailure(await get(app(), '/size', { topic: 'feed', consumer_id: 'x' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await get(app(), '/size', { topic: 'feed', consumer_id: other, partition_id: 0 }), 400, 'INVALID_ARGUMENT');
  });
});
