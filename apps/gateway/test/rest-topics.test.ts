import { expectFailure, get, post, postRaw, request } from './http.js';
import { startFakeCluster, type FakeCluster } from './fakes/fake-cluster.js';

let cluster: FakeCluster;
beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 2 });
});
afterAll(async () => {
  await cluster.stop();
});
const app = () => cluster.gateway.app;

describe('GET /topics', () => {
  test('answers an empty list before any topic exists', async () => {
    const reply = await get(app(), '/topics');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'success', topics: [] });
  });
});

describe('POST /topics', () => {
  test('creates a topic: 201 with the course-spec message', async () => {
    const reply = await post(app(), '/topics', { topic_name: 'orders', partitions: 4 });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      status: 'success',
      message: "Topic 'orders' created successfully",
      topic: { name: 'orders', partitions: 4, default_acks: 'broker', retention_ms: null, retention_bytes: null },
    });
    expect(cluster.state.topicByName('orders')?.partitionCount).toBe(4);
  });

  test('accepts "name" for "topic_name" and defaults the partition count', async () => {
    const reply = await post(app(), '/topics', { name: 'defaults.topic-1' });
    expect(reply.status).toBe(201);
    expect(reply.body.topic).toEqual({
      name: 'defaults.topic-1',
      partitions: cluster.state.defaultPartitions,
      default_acks: 'broker',
      retention_ms: null,
      retention_bytes: null,
    });
  });

  test('takes a time and a size limit, handed to the manager and answered back', async () => {
    const reply = await post(app(), '/topics', { topic_name: 'limited', partitions: 1, retention_ms: 3_600_000, retention_bytes: 2 ** 40 });
    expect(reply.status).toBe(201);
    expect(reply.body.topic).toMatchObject({ retention_ms: 3_600_000, retention_bytes: 2 ** 40 });
    expect(cluster.state.topicByName('limited')).toMatchObject({ retentionMs: 3_600_000n, retentionBytes: 2n ** 40n });
    expect((await get(app(), '/topics/partitions', { topic_name: 'limited' })).body.topic).toEqual(reply.body.topic);
  });

  test.each([
    ['retention_ms', 0],
    ['retention_ms', -5],
    ['retention_ms', 1.5],
    ['retention_ms', '60000'],
    ['retention_ms', null],
    ['retention_bytes', 0],
    ['retention_bytes', Number.MAX_SAFE_INTEGER + 2],
    ['retention_bytes', true],
  ])('%s of %p is 400 and creates nothing', async (field, value) => {
    expectFailure(await post(app(), '/topics', { topic_name: 'bad-limit', [field]: value }), 400, 'INVALID_ARGUMENT');
    expect(cluster.state.topicByName('bad-limit')).toBeUndefined();
  });

  test('lists created topics in creation order', async () => {
    const reply = await get(app(), '/topics');
    expect(reply.body).toEqual({ status: 'success', topics: ['orders', 'defaults.topic-1', 'limited'] });
  });

  test('a duplicate is 409 ALREADY_EXISTS', async () => {
    expectFailure(await post(app(), '/topics', { topic_name: 'orders' }), 409, 'ALREADY_EXISTS');
  });

  test.each([
    ['empty', ''],
    ['too long', 'x'.repeat(250)],
    ['a space', 'a b'],
    ['a slash', 'a/b'],
    ['a dot', '.'],
    ['unicode', 'tøpic'],
  ])('a name with %s is 400', async (_what, name) => {
    expectFailure(await post(app(), '/topics', { topic_name: name }), 400, 'INVALID_ARGUMENT');
  });

  test('a name of 249 characters is fine', async () => {
    expect((await post(app(), '/topics', { topic_name: 'n'.repeat(249), partitions: 1 })).status).toBe(201);
  });

  test.each([
    ['zero', 0],
    ['negative', -1],
    ['fractional', 1.5],
    ['a string', '3'],
    ['over 1024', 1025],
    ['null', null],
  ])('partitions %s is 400', async (_what, partitions) => {
    expectFailure(await post(app(), '/topics', { topic_name: 'bad-partitions', partitions }), 400, 'INVALID_ARGUMENT');
    expect(cluster.state.topicByName('bad-partitions')).toBeUndefined();
  });

  test('a name of the wrong type is 400, not coerced', async () => {
    expectFailure(await post(app(), '/topics', { topic_name: 12345 }), 400, 'INVALID_ARGUMENT');
    expect(cluster.state.topicByName('12345')).toBeUndefined();
  });

  test('a missing name is 400', async () => {
    expectFailure(await post(app(), '/topics', { partitions: 2 }), 400, 'INVALID_ARGUMENT');
  });

  test('an unknown field is 400 and creates nothing: a misspelt partition count or limit is not the default', async () => {
    const reply = await post(app(), '/topics', { topic_name: 'misspelt', partitons: 6 });
    expectFailure(reply, 400, 'INVALID_ARGUMENT');
    expect(reply.body.message).toBe('body has an unknown field "partitons"');
    expectFailure(await post(app(), '/topics', { topic_name: 'misspelt', retention_m: 60_000 }), 400, 'INVALID_ARGUMENT');
    expect(cluster.state.topicByName('misspelt')).toBeUndefined();
  });

  test('malformed JSON, an empty body and a non-object body are 400 in the envelope', async () => {
    expectFailure(await postRaw(app(), '/topics', '{"topic_name": "x",'), 400, 'INVALID_ARGUMENT');
    expectFailure(await postRaw(app(), '/topics', ''), 400, 'INVALID_ARGUMENT');
    expectFailure(await postRaw(app(), '/topics', '["x"]'), 400, 'INVALID_ARGUMENT');
    expectFailure(await postRaw(app(), '/topics', '"x"'), 400, 'INVALID_ARGUMENT');
  });

  test('an unsupported content type is 415 INVALID_ARGUMENT, text/plain too, and writes nothing', async () => {
    for (const [body, type] of [
      ['topic_name=plain1', 'application/x-www-form-urlencoded'],
      ['{"topic_name":"plain2"}', 'text/plain'],
    ] as const) {
      const reply = await postRaw(app(), '/topics', body, type);
      expect(reply.status).toBe(415);
      expect(reply.body).toMatchObject({ status: 'failure', code: 'INVALID_ARGUMENT', message: expect.stringContaining('Content-Type: application/json') });
    }
    expect(cluster.state.topicByName('plain1')).toBeUndefined();
    expect(cluster.state.topicByName('plain2')).toBeUndefined();
  });

  test('a body over the limit is 413 PAYLOAD_TOO_LARGE', async () => {
    const huge = JSON.stringify({ topic_name: 'huge', padding: 'x'.repeat(3 * 1024 * 1024) });
    expectFailure(await postRaw(app(), '/topics', huge), 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('GET /topics/partitions', () => {
  test('shows owner, start and end offset of every partition', async () => {
    const producer = await post(app(), '/producer/register', { topic: 'orders' });
    for (const partition_id of [0, 0, 0, 2]) {
      const sent = await post(app(), '/producer/produce', { topic: 'orders', producer_id: producer.body.producer_id, message: 'm', partition_id });
      expect(sent.status).toBe(200);
    }
    const reply = await get(app(), '/topics/partitions', { topic_name: 'orders' });
    expect(reply.status).toBe(200);
    const [b1, b2] = cluster.brokers.map((b) => b.broker.id);
    expect(reply.body).toEqual({
      status: 'success',
      topic: { name: 'orders', partitions: 4, default_acks: 'broker', retention_ms: null, retention_bytes: null },
      partitions: [
        { partition_id: 0, broker_id: b1, start_offset: 0, end_offset: 3, stored_bytes: 0 },
        { partition_id: 1, broker_id: b2, start_offset: 0, end_offset: 0, stored_bytes: 0 },
        { partition_id: 2, broker_id: b1, start_offset: 0, end_offset: 1, stored_bytes: 0 },
        { partition_id: 3, broker_id: b2, start_offset: 0, end_offset: 0, stored_bytes: 0 },
      ],
    });
  });

  test('a partition whose broker does not answer shows its committed high watermark as its end', async () => {
    const own = await startFakeCluster({ brokers: 2 });
    try {
      const producer = await post(own.gateway.app, '/producer/register', { topic: 'ledger' });
      for (const partition_id of [0, 1, 1]) {
        const sent = await post(own.gateway.app, '/producer/produce', { topic: 'ledger', producer_id: producer.body.producer_id, message: 'm', partition_id });
        expect(sent.status).toBe(200);
      }
      const [b1, b2] = own.brokers;
      await b2!.close();
      const reply = await get(own.gateway.app, '/topics/partitions', { topic_name: 'ledger' });
      expect(reply.status).toBe(200);
      // Nothing is committed in the fake cluster: the high watermark of every partition is 0.
      expect(reply.body.partitions).toEqual([
        { partition_id: 0, broker_id: b1!.broker.id, start_offset: 0, end_offset: 1, stored_bytes: 0 },
        { partition_id: 1, broker_id: b2!.broker.id, start_offset: 0, end_offset: 0, stored_bytes: 0 },
        expect.objectContaining({ partition_id: 2 }),
      ]);
    } finally {
      await own.stop();
    }
  });

  test('an unknown topic is 404, a missing one 400', async () => {
    expectFailure(await get(app(), '/topics/partitions', { topic_name: 'nope' }), 404, 'NOT_FOUND');
    expectFailure(await get(app(), '/topics/partitions'), 400, 'INVALID_ARGUMENT');
    expectFailure(await get(app(), '/topics/partitions', { topic_name: 'events', partition: 0 }), 400, 'INVALID_ARGUMENT');
  });
});

describe('PATCH /admin/topics/:topic_name', () => {
  const token = 'limits-token';
  let own: FakeCluster;
  beforeAll(async () => {
    own = await startFakeCluster({ brokers: 1, gateway: { adminToken: token } });
    expect((await post(own.gateway.app, '/topics', { topic_name: 'events', partitions: 1, retention_bytes: 5000 })).status).toBe(201);
  });
  afterAll(async () => {
    await own.stop();
  });
  const patch = (name: string, payload: unknown, authorization = `Bearer ${token}`) =>
    request(own.gateway.app, { method: 'PATCH', url: `/admin/topics/${name}`, payload: payload as string, headers: { authorization } });

  test('sets a limit, keeps the one left out, and removes one given as null', async () => {
    const set = await patch('events', { retention_ms: 60_000 });
    expect(set.status).toBe(200);
    expect(set.body.topic).toMatchObject({ name: 'events', retention_ms: 60_000, retention_bytes: 5000 });
    const removed = await patch('events', { retention_bytes: null });
    expect(removed.body.topic).toMatchObject({ retention_ms: 60_000, retention_bytes: null });
    expect(own.state.topicByName('events')).toMatchObject({ retentionMs: 60_000n, retentionBytes: undefined });
    // The gateway's own view follows at once.
    expect((await get(own.gateway.app, '/topics/partitions', { topic_name: 'events' })).body.topic).toEqual(removed.body.topic);
  });

  test.each([
    ['no limit named', {}],
    ['a zero limit', { retention_ms: 0 }],
    ['a fractional limit', { retention_bytes: 2.5 }],
    ['a limit as a string', { retention_ms: '1000' }],
    ['a misspelt limit', { retention_ms: 1000, retention_byte: 10 }],
  ])('%s is 400 and changes nothing', async (_what, payload) => {
    const before = { ...own.state.topicByName('events') };
    expectFailure(await patch('events', payload), 400, 'INVALID_ARGUMENT');
    expect(own.state.topicByName('events')).toMatchObject({ retentionMs: before.retentionMs, retentionBytes: before.retentionBytes });
  });

  test('an unknown topic is 404; without the admin token it is 401', async () => {
    expectFailure(await patch('nope', { retention_ms: 1000 }), 404, 'NOT_FOUND');
    expectFailure(await patch('events', { retention_ms: 1 }, 'Bearer wrong'), 401, 'UNAUTHENTICATED');
    expect(own.state.topicByName('events')?.retentionMs).toBe(60_000n);
  });
});
