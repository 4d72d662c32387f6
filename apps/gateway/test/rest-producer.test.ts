import { expectFailure, get, post, postRaw } from './http.js';
import { startFakeCluster, type FakeCluster } from './fakes/fake-cluster.js';

const MAX_MESSAGE_BYTES = 1024;
/** How long keyless messages stay on a partition here: two messages of 1000 bytes, not three. */
const STICKY_PARTITION_BYTES = 2048;
let cluster: FakeCluster;
let producerId: number;

beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 2, gateway: { maxMessageBytes: MAX_MESSAGE_BYTES, batchBodyLimit: 256 * 1024, stickyPartitionBytes: STICKY_PARTITION_BYTES } });
  await post(app(), '/topics', { topic_name: 'events', partitions: 3 });
  await post(app(), '/topics', { topic_name: 'other', partitions: 1 });
  producerId = (await post(app(), '/producer/register', { topic: 'events' })).body.producer_id;
});
afterAll(async () => {
  await cluster.stop();
});
const app = () => cluster.gateway.app;
const topicId = (name: string) => cluster.state.topicByName(name)!.id;
const logOf = (name: string, partition: number) => cluster.state.log(topicId(name), partition);
const totalRecords = () => [...cluster.state.logs.values()].reduce((sum, log) => sum + log.length, 0);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe('POST /producer/register', () => {
  test('answers an integer producer id', async () => {
    const reply = await post(app(), '/producer/register', { topic: 'events' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'success', producer_id: expect.any(Number) });
    expect(Number.isInteger(reply.body.producer_id)).toBe(true);
  });

  test('creates a missing topic', async () => {
    const reply = await post(app(), '/producer/register', { topic: 'created-by-producer' });
    expect(reply.status).toBe(200);
    expect((await get(app(), '/topics')).body.topics).toContain('created-by-producer');
  });

  test('a partition out of range is 404, a bad name or type 400', async () => {
    expectFailure(await post(app(), '/producer/register', { topic: 'events', partition_id: 3 }), 404, 'NOT_FOUND');
    expectFailure(await post(app(), '/producer/register', { topic: 'bad name' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/register', { topic: 'events', partition_id: '1' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/register', {}), 400, 'INVALID_ARGUMENT');
  });
});

describe('POST /producer/produce, one message', () => {
  test('answers the partition and offset the broker gave', async () => {
    const reply = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'hello', partition_id: 1 });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'success', partition_id: 1, offset: 0 });
    expect(text(logOf('events', 1)[0]!.payload)).toBe('hello');
  });

  test('stores the UTF-8 bytes of the string exactly', async () => {
    const message = 'ünïcødé 😀 "quotes" \'single\' \\ \u0000 NUL\n\t\'; DROP TABLE messages;--';
    const reply = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message, partition_id: 2 });
    const stored = logOf('events', 2)[reply.body.offset]!.payload;
    expect(Buffer.from(stored).equals(Buffer.from(message, 'utf8'))).toBe(true);
  });

  test('a key decides the partition, and the same key the same partition', async () => {
    const first = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'a', key: 'customer-7' });
    const second = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'b', key: 'customer-7' });
    expect(second.body.partition_id).toBe(first.body.partition_id);
    const stored = logOf('events', first.body.partition_id)[first.body.offset]!;
    expect(text(stored.key!)).toBe('customer-7');
  });

  test('keyless messages stay on a partition for stickyPartitionBytes one at a time, and share Appends when they come together', async () => {
    await post(app(), '/topics', { topic_name: 'spread', partitions: 3 });
    const id = (await post(app(), '/producer/register', { topic: 'spread' })).body.producer_id;
    const produce = (message: string) => post(app(), '/producer/produce', { topic: 'spread', producer_id: id, message });
    const partitionsOfTopic = () => [0, 1, 2].map((p) => logOf('spread', p).map((r) => text(r.payload)));

    // One at a time: the topic stays on its partition until stickyPartitionBytes have gone to it,
    // here three messages of 1000 bytes, and the next partition takes the next three.
    const sequential: number[] = [];
    for (let i = 0; i < 6; i++) sequential.push((await produce(`s${i}`.padEnd(1000, 'x'))).body.partition_id);
    const first = sequential[0]!;
    const next = (first + 1) % 3;
    expect(sequential).toEqual([first, first, first, next, next, next]);

    // Together: requests that arrive while an Append to the current partition is in flight wait there and go out in one Append.
    const appendsBefore = cluster.state.appendRequests.length;
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => produce(`b${i}`)));
    expect(burst.every((reply) => reply.status === 200)).toBe(true);
    expect(cluster.state.appendRequests.length - appendsBefore).toBeLessThan(10);
    const stored = partitionsOfTopic().flat();
    expect(stored.filter((m) => m.startsWith('b')).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `b${i}`).sort());
    expect(stored).toHaveLength(36);
    // Most of the burst waited on one partition (round robin by message would put 10 on each).
    const burstShares = partitionsOfTopic().map((messages) => messages.filter((m) => m.startsWith('b')).length);
    expect(Math.max(...burstShares)).toBeGreaterThan(15);
  });

  test('base64 carries binary payloads', async () => {
    const bytes = Buffer.from([0, 255, 128, 10, 13, 0xc3]);
    const reply = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: bytes.toString('base64'), encoding: 'base64', partition_id: 0 });
    expect(reply.status).toBe(200);
    expect(Buffer.from(logOf('events', 0)[reply.body.offset]!.payload).equals(bytes)).toBe(true);
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'not base64!', encoding: 'base64' }), 400, 'INVALID_ARGUMENT');
  });

  test('an empty message is a message', async () => {
    const reply = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: '', partition_id: 0 });
    expect(reply.status).toBe(200);
    expect(logOf('events', 0)[reply.body.offset]!.payload.byteLength).toBe(0);
  });

  test('a message of exactly the limit is accepted, one byte more is 413 and writes nothing', async () => {
    const atLimit = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'x'.repeat(MAX_MESSAGE_BYTES) });
    expect(atLimit.status).toBe(200);
    const before = totalRecords();
    const over = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'x'.repeat(MAX_MESSAGE_BYTES + 1) });
    expectFailure(over, 413, 'PAYLOAD_TOO_LARGE');
    // Multi-byte characters count as their UTF-8 bytes.
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'é'.repeat(MAX_MESSAGE_BYTES / 2 + 1) }), 413, 'PAYLOAD_TOO_LARGE');
    expect(totalRecords()).toBe(before);
  });

  test('unknown topic, unknown producer and a partition out of range are 404', async () => {
    expectFailure(await post(app(), '/producer/produce', { topic: 'missing', producer_id: producerId, message: 'm' }), 404, 'NOT_FOUND');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: 999999, message: 'm' }), 404, 'NOT_FOUND');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'm', partition_id: 3 }), 404, 'NOT_FOUND');
  });

  test('a producer of another topic is 403 PERMISSION_DENIED', async () => {
    const otherProducer = (await post(app(), '/producer/register', { topic: 'other' })).body.producer_id;
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: otherProducer, message: 'm' }), 403, 'PERMISSION_DENIED');
  });

  test('a producer registered for one partition writes only there', async () => {
    const pinned = (await post(app(), '/producer/register', { topic: 'events', partition_id: 2 })).body.producer_id;
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: pinned, message: 'm', partition_id: 0 }), 403, 'PERMISSION_DENIED');
    for (let i = 0; i < 3; i++) {
      const reply = await post(app(), '/producer/produce', { topic: 'events', producer_id: pinned, message: `m${i}` });
      expect(reply.body.partition_id).toBe(2);
    }
  });

  test('missing fields and wrong types are 400, never coerced', async () => {
    const before = totalRecords();
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', message: 'm' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { producer_id: producerId, message: 'm' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 123 }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: null }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: { text: 'm' } }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: String(producerId), message: 'm' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: 1.5, message: 'm' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: -1, message: 'm' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'm', partition_id: -1 }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'm', sequence: 'one' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'm', encoding: 'hex' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: '\ud800 lone surrogate' }), 400, 'INVALID_ARGUMENT');
    expectFailure(await postRaw(app(), '/producer/produce', '{"topic": "events", "producer_id": 1, "message": "m"'), 400, 'INVALID_ARGUMENT');
    expect(totalRecords()).toBe(before);
  });

  test('an unknown field is 400 and writes nothing, never ignored: a misspelt option would quietly get the default', async () => {
    const before = totalRecords();
    const appendsBefore = cluster.brokers.map((b) => b.appends.length);
    const misspeltPartition = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'm', partition: 2 });
    expectFailure(misspeltPartition, 400, 'INVALID_ARGUMENT');
    expect(misspeltPartition.body.message).toBe('body has an unknown field "partition"');
    const misspeltAcks = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'm', ack: 'all' });
    expect(misspeltAcks.body.message).toBe('body has an unknown field "ack"');
    const batchItem = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, messages: ['ok', { message: 'm', partiton_id: 1 }] });
    expectFailure(batchItem, 400, 'INVALID_ARGUMENT');
    expect(batchItem.body.message).toBe('body/messages/1 has an unknown field "partiton_id"');
    const register = await post(app(), '/producer/register', { topic: 'events', partition: 1 });
    expectFailure(register, 400, 'INVALID_ARGUMENT');
    expect(register.body.message).toBe('body has an unknown field "partition"');
    expect(totalRecords()).toBe(before);
    expect(cluster.brokers.map((b) => b.appends.length)).toEqual(appendsBefore);
  });

  test('a body over the produce limit is 413', async () => {
    const huge = JSON.stringify({ topic: 'events', producer_id: producerId, messages: Array.from({ length: 400 }, () => 'x'.repeat(1000)) });
    expectFailure(await postRaw(app(), '/producer/produce', huge), 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('POST /producer/produce, a batch', () => {
  test('answers one result per message, in request order, across partitions', async () => {
    const messages = [{ message: 'p0', partition_id: 0 }, 'plain string', { message: 'p2', partition_id: 2 }, { message: 'p0 again', partition_id: 0 }];
    const reply = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, messages });
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('success');
    expect(reply.body.results).toHaveLength(4);
    const [r0, , r2, r3] = reply.body.results;
    expect([r0.partition_id, r2.partition_id, r3.partition_id]).toEqual([0, 2, 0]);
    // Within a partition, the batch keeps request order.
    expect(r3.offset).toBeGreaterThan(r0.offset);
    for (const [i, result] of reply.body.results.entries()) {
      const expected = typeof messages[i] === 'string' ? messages[i] : (messages[i] as { message: string }).message;
      expect(text(logOf('events', result.partition_id)[result.offset]!.payload)).toBe(expected);
    }
  });

  test('one message too large writes nothing of the batch', async () => {
    const before = totalRecords();
    const appendsBefore = cluster.brokers.map((b) => b.appends.length);
    const reply = await post(app(), '/producer/produce', {
      topic: 'events',
      producer_id: producerId,
      messages: [{ message: 'ok', partition_id: 0 }, { message: 'ok', partition_id: 1 }, 'x'.repeat(MAX_MESSAGE_BYTES + 1)],
    });
    expectFailure(reply, 413, 'PAYLOAD_TOO_LARGE');
    expect(totalRecords()).toBe(before);
    expect(cluster.brokers.map((b) => b.appends.length)).toEqual(appendsBefore);
  });

  test('one invalid message (bad partition, bad type, no message) writes nothing of the batch', async () => {
    const before = totalRecords();
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, messages: ['ok', { message: 'x', partition_id: 9 }] }), 404, 'NOT_FOUND');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, messages: ['ok', 42] }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, messages: ['ok', { key: 'k' }] }), 400, 'INVALID_ARGUMENT');
    expect(totalRecords()).toBe(before);
  });

  test('an empty batch, or "message" and "messages" together, are 400', async () => {
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, messages: [] }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'a', messages: ['b'] }), 400, 'INVALID_ARGUMENT');
  });
});

describe('sequence numbers', () => {
  test('are passed to the broker with the producer id, and a retry lands once', async () => {
    const body = { topic: 'events', producer_id: producerId, message: 'exactly once', sequence: 41 };
    const first = await post(app(), '/producer/produce', body);
    const appended = cluster.state.appendRequests.at(-1)!;
    expect(appended.records[0]).toMatchObject({ producerId, sequence: 41n });

    const before = totalRecords();
    const retry = await post(app(), '/producer/produce', body);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'success', partition_id: first.body.partition_id, offset: first.body.offset, duplicate: true });
    expect(totalRecords()).toBe(before);
  });

  test('without a partition or key, the sequence picks the partition, so the retry meets its original', async () => {
    for (const sequence of [100, 101, 102, 103]) {
      const reply = await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: `s${sequence}`, sequence });
      expect(reply.body.partition_id).toBe(sequence % 3);
    }
  });

  test('a batch passes each message\'s sequence', async () => {
    await post(app(), '/producer/produce', {
      topic: 'events',
      producer_id: producerId,
      messages: [{ message: 'a', sequence: 200, partition_id: 1 }, { message: 'b', sequence: 201, partition_id: 1 }],
    });
    const appended = cluster.state.appendRequests.at(-1)!;
    expect(appended.records.map((r) => r.sequence)).toEqual([200n, 201n]);
  });

  test('negative or unsafe sequences are 400', async () => {
    expectFailure(await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'm', sequence: -1 }), 400, 'INVALID_ARGUMENT');
    expectFailure(await postRaw(app(), '/producer/produce', `{"topic":"events","producer_id":${producerId},"message":"m","sequence":12345678901234567890}`), 400, 'INVALID_ARGUMENT');
  });

  test('previous_sequence goes to the broker with its sequence, per message of a batch', async () => {
    await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'second', partition_id: 2, sequence: 301, previous_sequence: 300 });
    expect(cluster.state.appendRequests.at(-1)!.records[0]).toMatchObject({ sequence: 301n, previousSequence: 300n });
    await post(app(), '/producer/produce', {
      topic: 'events',
      producer_id: producerId,
      partition_id: 2,
      messages: [{ message: 'third', sequence: 302, previous_sequence: 301 }, { message: 'fourth', sequence: 303, previous_sequence: 302 }, { message: 'alone', sequence: 400 }],
    });
    expect(cluster.state.appendRequests.at(-1)!.records.map((r) => r.previousSequence)).toEqual([301n, 302n, undefined]);
  });

  test('a previous_sequence the broker has not stored is 409 SEQUENCE_GAP, once the gateway waited it out', async () => {
    const owner = cluster.brokers.find((b) => b.broker.id === cluster.state.partition(topicId('events'), 2).brokerId)!;
    owner.failNext('SEQUENCE_GAP', 100);
    try {
      const body = { topic: 'events', producer_id: producerId, message: 'early', partition_id: 2, sequence: 501, previous_sequence: 500 };
      expectFailure(await post(app(), '/producer/produce', body), 409, 'SEQUENCE_GAP');
    } finally {
      owner.clearFailures();
    }
  });

  test('previous_sequence without a sequence, negative or unsafe is 400, and writes nothing', async () => {
    const before = totalRecords();
    const message = { topic: 'events', producer_id: producerId, message: 'm', partition_id: 2 };
    expectFailure(await post(app(), '/producer/produce', { ...message, previous_sequence: 7 }), 400, 'INVALID_ARGUMENT');
    expectFailure(await post(app(), '/producer/produce', { ...message, sequence: 8, previous_sequence: -1 }), 400, 'INVALID_ARGUMENT');
    expectFailure(
      await postRaw(app(), '/producer/produce', `{"topic":"events","producer_id":${producerId},"message":"m","sequence":9,"previous_sequence":12345678901234567890}`),
      400,
      'INVALID_ARGUMENT',
    );
    expectFailure(await post(app(), '/producer/produce', { ...message, message: undefined, messages: ['ok', { message: 'x', previous_sequence: 3 }] }), 400, 'INVALID_ARGUMENT');
    expect(totalRecords()).toBe(before);
  });
});

describe('acks', () => {
  test('"all" reaches the broker; the default is the topic\'s (broker)', async () => {
    await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'm', acks: 'all', partition_id: 0 });
    expect(cluster.state.appendRequests.at(-1)!.acks).toBe(2);
    await post(app(), '/producer/produce', { topic: 'events', producer_id: producerId, message: 'm', partition_id: 0 });
    expect(cluster.state.appendRequests.at(-1)!.acks).toBe(1);
  });
});
