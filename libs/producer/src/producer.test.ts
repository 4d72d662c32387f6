import { Code } from '@connectrpc/connect';
import { Acks } from '@partq/client-core';
import { deadUrl, FakeProducerGateway, type Fault } from '../test/fake-producer-gateway.js';
import { MESSAGE_OVERHEAD_BYTES } from './batching/batch.js';
import { ProducerError } from './errors/producer-error.js';
import { Producer } from './producer.js';
import type { ProducerOptions } from './options.js';

/** A long linger: batches then leave only when full or flushed, so counts do not depend on timing. */
const NO_LINGER_TIMEOUT = 60_000;
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5, deadlineMs: 5_000 };

let gateway: FakeProducerGateway;
const producers: Producer[] = [];

function producer(options: Partial<ProducerOptions> = {}): Producer {
  // The fake gateway speaks HTTP/1.1 (its faults cut sockets); HTTP/2, the default, has its own test.
  const p = new Producer({ urls: [gateway.url], httpVersion: '1.1', retry: FAST_RETRY, ...options });
  producers.push(p);
  return p;
}

async function rejection(promise: Promise<unknown>): Promise<ProducerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProducerError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

beforeEach(async () => {
  gateway = await FakeProducerGateway.start();
});

afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.close()));
  await gateway.stop();
});

describe('topics and registration', () => {
  it('creates and lists topics', async () => {
    const p = producer();
    await p.createTopic('orders', { partitions: 3 });
    await p.createTopic('audit');
    expect(await p.listTopics()).toEqual(['orders', 'audit']);
    expect(gateway.topics.get('orders')?.partitions).toHaveLength(3);
  });

  it('creates a topic with a time and a size limit; refuses a limit that is not a positive whole number before a call', async () => {
    const p = producer();
    await p.createTopic('limited', { partitions: 1, retentionMs: 86_400_000, retentionBytes: 2 ** 33 });
    expect(gateway.topics.get('limited')).toMatchObject({ retentionMs: 86_400_000n, retentionBytes: 2n ** 33n });
    await p.createTopic('unlimited');
    expect(gateway.topics.get('unlimited')).not.toHaveProperty('retentionMs');
    for (const bad of [0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, '1000' as unknown as number]) {
      expect((await rejection(p.createTopic('bad-limit', { retentionMs: bad }))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(p.createTopic('bad-limit', { retentionBytes: bad }))).code).toBe('INVALID_ARGUMENT');
    }
    expect(gateway.topics.has('bad-limit')).toBe(false);
  });

  it('registers again when the cluster removed its producer id after an idle spell, and the batches that met it land once', async () => {
    const p = producer({ lingerMs: 0 });
    await p.createTopic('idle', { partitions: 2 });
    const first = await p.register('idle', { partition: 1 });
    expect(await p.send('idle', ['a', 'b'])).toEqual([
      { partition: 1, offset: 0 },
      { partition: 1, offset: 1 },
    ]);
    // The cluster's producer expiry removed the id; three sends in flight meet it at once.
    gateway.producers.delete(first);
    const results = await Promise.all([p.send('idle', 'c'), p.send('idle', ['d', 'e']), p.send('idle', 'f')]);
    expect(results.flat().map((r) => r.partition)).toEqual([1, 1, 1, 1]);
    expect(gateway.log('idle').map((m) => m.value)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    // One new registration, for the same partition, shared by every batch; its sequences start afresh.
    const renewed = [...gateway.producers.entries()].filter(([id]) => id !== first);
    expect(renewed).toEqual([[expect.any(Number), { topic: 'idle', partition: 1 }]]);
    const [[second]] = renewed as [[number, unknown]];
    const resent = gateway.sendRequests.filter((r) => r.producerId === second).flatMap((r) => r.messages.map((m) => m.sequence));
    expect(resent.sort()).toEqual([0n, 1n, 2n, 3n]);
    // Later sends use the new id.
    await p.send('idle', 'g');
    expect(gateway.sendRequests.at(-1)?.producerId).toBe(second);
  });

  it('reports an existing topic as ALREADY_EXISTS', async () => {
    const p = producer();
    await p.createTopic('orders');
    const error = await rejection(p.createTopic('orders'));
    expect(error.code).toBe('ALREADY_EXISTS');
    expect(error.retriable).toBe(false);
  });

  it('treats ALREADY_EXISTS after a lost answer as success', async () => {
    const p = producer();
    // The first attempt creates the topic but its answer is lost; the retry finds the topic there.
    gateway.failNext('createTopic', { kind: 'reset-after-write' });
    await p.createTopic('orders', { partitions: 2 });
    expect(gateway.topics.get('orders')?.partitions).toHaveLength(2);
  });

  it('refuses an invalid topic name without a round trip', async () => {
    const p = producer();
    expect((await rejection(p.send('bad name!', 'x'))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(p.createTopic(''))).code).toBe('INVALID_ARGUMENT');
    expect(gateway.sendRequests).toHaveLength(0);
  });

  it('registers explicitly, and lazily on the first send', async () => {
    const p = producer();
    const id = await p.register('pinned', { partition: 0 });
    await p.send('pinned', 'a');
    await p.send('lazy', 'b');
    expect(gateway.sendRequests.map((r) => r.producerId)).toEqual([id, id + 1]);
    expect(gateway.producers.get(id)).toEqual({ topic: 'pinned', partition: 0 });
  });

  it('shares one lazy registration between concurrent sends', async () => {
    const p = producer({ lingerMs: 0 });
    await Promise.all([p.send('t', 'a'), p.send('t', 'b'), p.send('t', 'c')]);
    expect(gateway.producers.size).toBe(1);
  });
});

describe('send', () => {
  it('resolves one result for one message and one per message for an array', async () => {
    const p = producer();
    await p.createTopic('t', { partitions: 2 });
    const single = await p.send('t', 'hello', { partition: 1 });
    expect(single).toEqual({ partition: 1, offset: 0 });
    const many = await p.send('t', ['a', new TextEncoder().encode('b'), { value: 'c', partition: 0 }], { partition: 1 });
    expect(many).toEqual([
      { partition: 1, offset: 1 },
      { partition: 1, offset: 2 },
      { partition: 0, offset: 0 },
    ]);
    expect(await p.send('t', [])).toEqual([]);
  });

  it('sends keys, partitions, acks and increasing sequences on the wire', async () => {
    const p = producer({ acks: 'all' });
    await p.send('t', [{ value: 'a', key: 'k1' }, 'b'], { key: 'k2' });
    await p.send('t', 'c', { acks: 'broker' });
    const [first, second] = gateway.sendRequests;
    expect(first?.acks).toBe(Acks.ALL);
    expect(second?.acks).toBe(Acks.BROKER);
    expect(first?.messages.map((m) => new TextDecoder().decode(m.key))).toEqual(['k1', 'k2']);
    expect([...(first?.messages ?? []), ...(second?.messages ?? [])].map((m) => m.sequence)).toEqual([0n, 1n, 2n]);
  });

  it('with stickyPartitionBytes 0, sends the keyless messages of a batch to one partition and the next batch to the next; a retry keeps it', async () => {
    const p = producer({ lingerMs: 0, stickyPartitionBytes: 0 });
    await p.createTopic('spread', { partitions: 3 });
    const first = await p.send('spread', ['a', 'b', { value: 'c', key: 'k' }, { value: 'd', partition: 2 }]);
    gateway.failNext('send', { kind: 'reset-after-write' });
    const second = await p.send('spread', ['e', 'f']);
    const [sticky] = first;
    expect(first.slice(0, 2).map((r) => r.partition)).toEqual([sticky!.partition, sticky!.partition]);
    expect(first[3]?.partition).toBe(2);
    // The retried batch went where its first attempt went, and landed once.
    expect(second.map((r) => r.partition)).toEqual([(sticky!.partition + 1) % 3, (sticky!.partition + 1) % 3]);
    const wire = gateway.sendRequests.map((r) => r.messages.map((m) => m.partitionId));
    expect(wire[1]).toEqual(wire[2]);
    const stored = gateway.topics.get('spread')!.partitions.flat().map((m) => m.value).sort();
    expect(stored).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('keeps keyless batches on one partition until stickyPartitionBytes have gone to it, then moves on', async () => {
    const p = producer({ lingerMs: 0 });
    await p.createTopic('stay', { partitions: 3 });
    const small = [];
    for (let i = 0; i < 5; i++) small.push(await p.send('stay', `small-${i}`));
    const partition = small[0]!.partition;
    expect(small.map((r) => r.partition)).toEqual([partition, partition, partition, partition, partition]);
    // One batch of 16 KiB crosses the default limit and still goes whole where the others went.
    const big = await p.send('stay', Array.from({ length: 16 }, () => 'x'.repeat(1024)));
    expect(new Set(big.map((r) => r.partition))).toEqual(new Set([partition]));
    const after = await p.send('stay', 'after');
    expect(after.partition).toBe((partition + 1) % 3);
  });

  it('refuses a stickyPartitionBytes that is not a number >= 0', () => {
    for (const stickyPartitionBytes of [-1, Number.NaN, '16' as unknown as number]) {
      expect(() => new Producer({ urls: ['http://127.0.0.1:1'], stickyPartitionBytes })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('stickyPartitionBytes') }),
      );
    }
  });

  it('sends no sequences when not idempotent', async () => {
    const p = producer({ idempotent: false });
    await p.send('t', ['a', 'b']);
    expect(gateway.sendRequests[0]?.messages.map((m) => m.sequence)).toEqual([undefined, undefined]);
  });

  it('refuses an option or message field it does not know (a misspelling from JavaScript), before any call', async () => {
    const p = producer();
    const unknown = async (promise: Promise<unknown>) => {
      const error = await rejection(promise);
      expect(error.code).toBe('INVALID_ARGUMENT');
      return error.message;
    };
    expect(await unknown(p.send('t', 'x', { partiton: 1 } as never))).toBe('send() options: "partiton" is not one of partition, key, acks, signal');
    expect(await unknown(p.send('t', [{ value: 'x', partiton: 1 } as never]))).toBe('message 0: "partiton" is not one of value, key, partition');
    expect(await unknown(p.send('t', 'x', { ack: 'all' } as never))).toContain('"ack"');
    expect(await unknown(p.createTopic('t', { partition: 3 } as never))).toContain('createTopic() options: "partition"');
    expect(await unknown(p.register('t', { partitions: 1 } as never))).toContain('register() options: "partitions"');
    expect(await unknown(p.listTopics({ timeout: 5 } as never))).toContain('"timeout"');
    expect(await unknown(p.flush({ timeout: 5 } as never))).toContain('"timeout"');
    expect(gateway.sendRequests).toHaveLength(0);
    expect(gateway.topics.size).toBe(0);
    expect(gateway.producers.size).toBe(0);
    expect(() => new Producer({ urls: ['http://127.0.0.1:1'], lingerMS: 5 } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('producer options: "lingerMS" is not one of urls,') }),
    );
    expect(() => new Producer({ urls: ['http://127.0.0.1:1'], retry: { deadline: 5 } } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('producer options.retry: "deadline"') }),
    );
  });

  it('refuses malformed messages before sending anything', async () => {
    const p = producer();
    expect((await rejection(p.send('t', [{ value: 42 } as never]))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(p.send('t', 'x', { partition: -1 }))).code).toBe('INVALID_ARGUMENT');
    expect(gateway.sendRequests).toHaveLength(0);
  });
});

describe('batching', () => {
  it('sends a batch when maxBatchCount is reached', async () => {
    const p = producer({ lingerMs: NO_LINGER_TIMEOUT, maxBatchCount: 3 });
    const sends = ['a', 'b', 'c', 'd', 'e', 'f'].map((m) => p.send('t', m));
    await Promise.all(sends);
    expect(gateway.sendRequests.map((r) => r.messages.length)).toEqual([3, 3]);
  });

  it('sends a batch when maxBatchBytes would be exceeded', async () => {
    const value = 'x'.repeat(100);
    const p = producer({ lingerMs: NO_LINGER_TIMEOUT, maxBatchBytes: 2 * (value.length + MESSAGE_OVERHEAD_BYTES) });
    const sends = Array.from({ length: 5 }, () => p.send('t', value));
    await p.flush();
    await Promise.all(sends);
    expect(gateway.sendRequests.map((r) => r.messages.length)).toEqual([2, 2, 1]);
  });

  it('gathers the sends made within lingerMs into one RPC', async () => {
    const p = producer({ lingerMs: 20 });
    await Promise.all([p.send('t', 'a'), p.send('t', ['b', 'c']), p.send('t', 'd')]);
    await p.send('t', 'e');
    expect(gateway.sendRequests.map((r) => r.messages.length)).toEqual([4, 1]);
  });

  it('keeps call order when a send arrives while an earlier one, just admitted, has not run yet', async () => {
    // One batch on the wire at a time, one message per batch.
    const p = producer({ lingerMs: 0, maxInFlight: 1, maxBatchCount: 1 });
    await p.register('t');
    const release = gateway.holdSends();
    const onTheWire = p.send('t', 'x');
    await gateway.sendsArrived(1);
    // A batch waits for the slot, so the next send waits for admission.
    const controller = new AbortController();
    const aborted = p.send('t', 'aborted', { signal: controller.signal }).catch(() => 'aborted');
    const first = p.send('t', 'a');
    await new Promise((resolve) => setImmediate(resolve));
    // Aborting the waiting batch's send admits 'a' (its turn comes on a microtask); a send made in the
    // same synchronous run, by a listener after the producer's own, must still go after 'a'.
    let later: Promise<unknown> | undefined;
    controller.signal.addEventListener('abort', () => (later = p.send('t', 'b')), { once: true });
    controller.abort();
    release();
    await Promise.all([onTheWire, aborted, first, later]);
    expect(gateway.log('t').map((m) => m.value)).toEqual(['x', 'a', 'b']);
  });

  it('flush() waits for sends that took the path without a turn of the event loop', async () => {
    const p = producer({ lingerMs: NO_LINGER_TIMEOUT });
    await p.register('t');
    const release = gateway.holdSends();
    let settled = false;
    const sent = p.send('t', 'a').then(() => (settled = true));
    const flushed = p.flush();
    await gateway.sendsArrived(1);
    expect(settled).toBe(false);
    release();
    await flushed;
    expect(settled).toBe(true);
    await sent;
  });

  it('keeps topics and acks modes in separate batches', async () => {
    const p = producer({ lingerMs: NO_LINGER_TIMEOUT });
    const sends = [p.send('a', '1'), p.send('b', '2'), p.send('a', '3', { acks: 'all' }), p.send('a', '4')];
    await p.flush();
    await Promise.all(sends);
    const shapes = gateway.sendRequests.map((r) => `${r.topic}:${r.acks}:${r.messages.length}`).sort();
    expect(shapes).toEqual([`a:${Acks.UNSPECIFIED}:2`, `a:${Acks.ALL}:1`, `b:${Acks.UNSPECIFIED}:1`]);
  });
});

describe('backpressure', () => {
  it('keeps at most maxInFlight batches on the wire and holds further sends back', async () => {
    const p = producer({ lingerMs: 0, maxBatchCount: 1, maxInFlight: 2 });
    await p.register('t');
    const release = gateway.holdSends();
    const sent = [p.send('t', 'm1'), p.send('t', 'm2'), p.send('t', 'm3')];
    await gateway.sendsArrived(2);
    // m3 is sealed and waits for a slot, so m4 may not even enter a batch: aborting it withdraws it.
    const controller = new AbortController();
    const m4 = p.send('t', 'm4', { signal: controller.signal });
    const m5 = p.send('t', 'm5');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(gateway.concurrentSends).toBe(2);
    controller.abort();
    expect((await rejection(m4)).code).toBe('ABORTED');
    release();
    await Promise.all([...sent, m5]);
    expect(gateway.maxConcurrentSends).toBe(2);
    expect(gateway.log('t').map((m) => m.value)).toEqual(['m1', 'm2', 'm3', 'm5']);
  });

  it('withdraws an aborted message that waits in a sealed batch', async () => {
    const p = producer({ lingerMs: 0, maxBatchCount: 1, maxInFlight: 1 });
    await p.register('t');
    const release = gateway.holdSends();
    const m1 = p.send('t', 'm1');
    await gateway.sendsArrived(1);
    const controller = new AbortController();
    const m2 = p.send('t', 'm2', { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    expect((await rejection(m2)).code).toBe('ABORTED');
    release();
    await m1;
    await p.send('t', 'm3');
    expect(gateway.log('t').map((m) => m.value)).toEqual(['m1', 'm3']);
  });
});

describe('retries and idempotence', () => {
  it.each([
    ['the connection resets after the write', { kind: 'reset-after-write' } as const],
    ['UNAVAILABLE comes back after the write', { kind: 'error-after-write', code: Code.Unavailable, partqCode: 'UNAVAILABLE' } as const],
    ['the answer is later than requestTimeoutMs', { kind: 'delay-after-write', ms: 300 } as const],
  ])('retries with the same sequences when %s, and the message lands once', async (_case, fault) => {
    const p = producer({ lingerMs: 0, requestTimeoutMs: 100 });
    await p.register('t');
    gateway.failNext('send', fault);
    const results = await p.send('t', ['a', 'b', 'c']);
    expect(gateway.sendRequests).toHaveLength(2);
    const [first, retry] = gateway.sendRequests.map((r) => r.messages.map((m) => m.sequence));
    expect(retry).toEqual(first);
    expect(gateway.log('t').map((m) => m.value)).toEqual(['a', 'b', 'c']);
    expect(results.map((r) => r.offset)).toEqual([0, 1, 2]);
  });

  it('sends no new batch while one backs off to retry, so its sequences stay within the broker\'s window', async () => {
    const p = producer({ lingerMs: 0, maxBatchCount: 1, maxInFlight: 4, retry: { baseDelayMs: 150, maxDelayMs: 150, deadlineMs: 5_000 } });
    await p.register('t');
    gateway.failNext('send', { kind: 'error', code: Code.Unavailable });
    const sends = Array.from({ length: 12 }, (_, i) => p.send('t', `m${i}`));
    await Promise.all(sends);
    const sequences = gateway.sendRequests.map((r) => r.messages.map((m) => Number(m.sequence)));
    const failed = sequences[0]!;
    const retriedAt = sequences.findIndex((s, i) => i > 0 && s[0] === failed[0]);
    // Before the retry, only the batches already on the wire when the first attempt failed (3 more,
    // which may go again themselves: each names its predecessor, refused until the first one lands).
    expect(retriedAt).toBeGreaterThan(0);
    expect(new Set(sequences.slice(0, retriedAt).map((s) => s[0])).size).toBeLessThanOrEqual(4);
    // And they land in the order they were sent.
    expect(gateway.log('t').map((m) => m.value)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
    expect(gateway.log('t').map((m) => m.value).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`).sort());
  });

  it('retries a connection reset before the write', async () => {
    const p = producer({ lingerMs: 0 });
    gateway.failNext('send', { kind: 'reset' }, { kind: 'error', code: Code.FailedPrecondition, partqCode: 'STALE_EPOCH' });
    await p.send('t', 'a');
    expect(gateway.sendRequests).toHaveLength(3);
    expect(gateway.log('t').map((m) => m.value)).toEqual(['a']);
  });

  it('gives up at the retry deadline with the last error', async () => {
    const p = producer({ lingerMs: 0, retry: { baseDelayMs: 20, maxDelayMs: 20, deadlineMs: 100 } });
    await p.register('t');
    gateway.failNext('send', ...Array.from({ length: 100 }, () => ({ kind: 'error', code: Code.Unavailable }) as const));
    const error = await rejection(p.send('t', 'a'));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retriable).toBe(true);
    expect(gateway.log('t')).toHaveLength(0);
  });

  it('speaks HTTP/2 by default', async () => {
    const h2 = await FakeProducerGateway.start('2');
    try {
      const p = new Producer({ urls: [h2.url], lingerMs: 0 });
      expect(await p.send('t', ['a', 'b'])).toHaveLength(2);
      await p.close();
      expect(h2.log('t')).toHaveLength(2);
    } finally {
      await h2.stop();
    }
  });

  it('moves to the next gateway when one is unreachable', async () => {
    const p = new Producer({ urls: [await deadUrl(), gateway.url], httpVersion: '1.1', retry: FAST_RETRY, lingerMs: 0 });
    producers.push(p);
    await p.createTopic('t');
    expect(await p.send('t', 'a')).toEqual({ partition: 0, offset: 0 });
  });
});

describe('request buffers', () => {
  afterEach(() => jest.restoreAllMocks());

  /** 1 KiB payloads that name their message: a batch of 100 is a ~105 KB request. */
  const large = (from: number, count: number) => Array.from({ length: count }, (_, i) => `${from + i}:`.padEnd(1024, String.fromCharCode(97 + ((from + i) % 26))));
  /** The large request buffers made so far (the pool's, power-of-two sizes of 64 KiB and up). */
  const madeBuffers = (spy: jest.SpyInstance) => spy.mock.calls.filter(([size]) => size >= 64 * 1024).length;

  it('writes the next large batch into the buffer of one that landed, each batch with its own bytes', async () => {
    const spy = jest.spyOn(Buffer, 'allocUnsafeSlow');
    const p = producer({ lingerMs: 0, maxBatchCount: 100 });
    await p.register('t');
    for (let round = 0; round < 6; round++) await p.send('t', large(round * 100, 100));
    expect(gateway.sendRequests).toHaveLength(6);
    expect(madeBuffers(spy)).toBe(1);
    expect(gateway.log('t').map((m) => m.value)).toEqual(large(0, 600));
  });

  it('leaves the buffer of a Send that failed to the garbage collector, and retries with its bytes', async () => {
    const spy = jest.spyOn(Buffer, 'allocUnsafeSlow');
    const p = producer({ lingerMs: 0, maxBatchCount: 100 });
    await p.register('t');
    gateway.failNext('send', { kind: 'error', code: Code.InvalidArgument, partqCode: 'INVALID_ARGUMENT' }, { kind: 'reset-after-write' });
    expect((await rejection(p.send('t', large(0, 100)))).code).toBe('INVALID_ARGUMENT');
    await p.send('t', large(100, 100));
    await p.send('t', large(200, 100));
    // One for the batch given up on, one for the next (kept through its retry, then used again).
    expect(madeBuffers(spy)).toBe(2);
    expect(gateway.log('t').map((m) => m.value)).toEqual(large(100, 200));
  });

  it('keeps every payload intact with large batches pipelined over HTTP/2', async () => {
    const h2 = await FakeProducerGateway.start('2');
    try {
      const p = new Producer({ urls: [h2.url], lingerMs: 0, maxBatchCount: 100, maxInFlight: 8 });
      const values = large(0, 3000);
      await Promise.all(Array.from({ length: 30 }, (_, i) => p.send('t', values.slice(i * 100, i * 100 + 100))));
      await p.close();
      expect(h2.log('t').map((m) => m.value).sort()).toEqual([...values].sort());
    } finally {
      await h2.stop();
    }
  });
});

describe('order across batches in flight', () => {
  afterEach(() => jest.restoreAllMocks());

  /**
   * Sends m0, then m1 once m0 has reached the gateway, so that they arrive in that order; both are
   * held there until both arrived, then meet `faults` in that order.
   */
  async function sendTwoInOrder(p: Producer, ...faults: Fault[]): Promise<{ first: Promise<unknown>; second: Promise<unknown> }> {
    const release = gateway.holdSends();
    gateway.failNext('send', ...faults);
    const first = p.send('t', 'm0');
    await gateway.sendsArrived(1);
    const second = p.send('t', 'm1');
    await gateway.sendsArrived(2);
    release();
    return { first, second };
  }

  /** The previous sequences each Send request carried, message by message. */
  const previousOnTheWire = () => gateway.sendRequests.map((r) => r.messages.map((m) => (m.previousSequence === undefined ? undefined : Number(m.previousSequence))));

  it('names, on the first message of a batch for each partition, the sequence sent to that partition before it', async () => {
    const p = producer({ lingerMs: NO_LINGER_TIMEOUT, maxBatchCount: 4 });
    await p.createTopic('keyed', { partitions: 3 });
    await p.register('keyed');
    // Explicit partitions make the partitions plain to see; keys are placed the gateway's way (below).
    const sends = [0, 1, 0, 0, 2, 0, 1, 1].map((partition, i) => p.send('keyed', { value: `m${i}`, partition }));
    await Promise.all(sends);
    const sequences = gateway.sendRequests.map((r) => r.messages.map((m) => Number(m.sequence)));
    expect(sequences).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    // Batch 1: partitions 0, 1, 0, 0, no predecessors. Batch 2: partition 2 (none), 0 (after 3), 1 (after 1), 1.
    expect(previousOnTheWire()).toEqual([[undefined, undefined, undefined, undefined], [undefined, 3, 1, undefined]]);
  });

  it('chains keyed messages by the partition the gateway will give them', async () => {
    const p = producer({ lingerMs: NO_LINGER_TIMEOUT, maxBatchCount: 1 });
    await p.createTopic('by-key', { partitions: 4 });
    await p.register('by-key');
    // Of 4 partitions, murmur2 (as Kafka) puts "a" and "b" on partition 0 and "c" on 2.
    const keys = ['a', 'c', 'b', 'c'];
    await Promise.all(keys.map((key, i) => p.send('by-key', { value: String(i), key })));
    expect(previousOnTheWire()).toEqual([[undefined], [undefined], [0], [1]]);
  });

  it('keeps a later batch from landing before an earlier one that is retried', async () => {
    const p = producer({ lingerMs: 0, maxBatchCount: 1, maxInFlight: 2 });
    await p.register('t');
    // m0 is refused first; m1, which names m0 as its predecessor, then finds it missing.
    const { first, second } = await sendTwoInOrder(p, { kind: 'error', code: Code.Unavailable, partqCode: 'UNAVAILABLE' });
    await Promise.all([first, second]);
    expect(gateway.log('t').map((m) => m.value)).toEqual(['m0', 'm1']);
    // m1 went out naming m0 and was refused; once m0 landed, its retry may name it or not (nothing earlier is pending).
    const m1Attempts = gateway.sendRequests.filter((r) => r.messages[0]!.sequence === 1n);
    expect(m1Attempts.length).toBeGreaterThan(1);
    expect(m1Attempts[0]!.messages[0]!.previousSequence).toBe(0n);
  });

  it('sends a batch again without its predecessor once every earlier batch settled and the predecessor never landed', async () => {
    const p = producer({ lingerMs: 0, maxBatchCount: 1, maxInFlight: 2 });
    await p.register('t');
    const { first, second } = await sendTwoInOrder(p, { kind: 'error', code: Code.InvalidArgument, partqCode: 'INVALID_ARGUMENT' });
    expect((await rejection(first)).code).toBe('INVALID_ARGUMENT');
    await second;
    expect(gateway.log('t').map((m) => m.value)).toEqual(['m1']);
    const attempts = gateway.sendRequests.filter((r) => r.messages[0]!.sequence === 1n).map((r) => r.messages[0]!.previousSequence);
    expect(attempts[0]).toBe(0n);
    expect(attempts.at(-1)).toBeUndefined();
    // The next batch starts a new chain after the one that landed.
    await p.send('t', 'm2');
    expect(previousOnTheWire().at(-1)).toEqual([1]);
  });

  it('drops the links of the oldest unsettled batch whatever its failure said (a Send over several partitions answers with one of their errors)', async () => {
    // m1 waits 100 ms (the top of its jitter) before its second attempt: m0's answer is in by then.
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    const p = producer({ lingerMs: 0, maxBatchCount: 1, maxInFlight: 2, retry: { baseDelayMs: 100, maxDelayMs: 100, deadlineMs: 5_000 } });
    await p.register('t');
    const { first, second } = await sendTwoInOrder(
      p,
      { kind: 'error', code: Code.InvalidArgument, partqCode: 'INVALID_ARGUMENT' },
      { kind: 'error', code: Code.Unavailable, partqCode: 'UNAVAILABLE' },
    );
    expect((await rejection(first)).code).toBe('INVALID_ARGUMENT');
    await second;
    // m1's first attempt named m0 and met UNAVAILABLE; m0 had failed by then, so the second went unlinked.
    const attempts = gateway.sendRequests.filter((r) => r.messages[0]!.sequence === 1n).map((r) => r.messages[0]!.previousSequence);
    expect(attempts).toEqual([0n, undefined]);
  });

  it('sends no previous sequences when not idempotent', async () => {
    const p = producer({ lingerMs: 0, maxBatchCount: 1, idempotent: false });
    await p.send('t', 'a');
    await p.send('t', 'b');
    expect(previousOnTheWire()).toEqual([[undefined], [undefined]]);
  });
});

describe('errors', () => {
  it.each([
    ['PAYLOAD_TOO_LARGE', Code.ResourceExhausted, 'PAYLOAD_TOO_LARGE'],
    ['PERMISSION_DENIED', Code.PermissionDenied, 'PERMISSION_DENIED'],
    ['OUT_OF_ORDER_SEQUENCE', Code.FailedPrecondition, 'OUT_OF_ORDER_SEQUENCE'],
    [undefined, Code.NotFound, 'NOT_FOUND'],
    [undefined, Code.InvalidArgument, 'INVALID_ARGUMENT'],
  ])('rejects the sends of a batch failing with %s / %s as %s, without retrying', async (partqCode, code, expected) => {
    const p = producer({ lingerMs: 20 });
    await p.register('t');
    gateway.failNext('send', { kind: 'error', code, ...(partqCode === undefined ? {} : { partqCode }), message: 'refused' });
    const results = await Promise.allSettled([p.send('t', 'a'), p.send('t', 'b')]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as ProducerError;
      expect(error).toBeInstanceOf(ProducerError);
      expect(error.code).toBe(expected);
      expect(error.retriable).toBe(false);
      expect(error.message).toBe('refused');
      if (partqCode !== undefined) expect(error.serverCode).toBe(partqCode);
    }
    expect(gateway.sendRequests).toHaveLength(1);
  });

  it('rejects a send to a topic the producer is not registered for', async () => {
    const p = producer({ lingerMs: 0 });
    await p.send('t', 'a');
    gateway.producers.set(1, { topic: 'other' });
    expect((await rejection(p.send('t', 'b'))).code).toBe('PERMISSION_DENIED');
  });
});

describe('abort', () => {
  it('rejects at once with ABORTED when the signal has already fired', async () => {
    const p = producer();
    const signal = AbortSignal.abort();
    for (const call of [p.send('t', 'a', { signal }), p.createTopic('t', { signal }), p.listTopics({ signal }), p.register('t', { signal })]) {
      expect((await rejection(call)).code).toBe('ABORTED');
    }
    expect(gateway.sendRequests).toHaveLength(0);
  });

  it('withdraws a lingering message when its send is aborted', async () => {
    const p = producer({ lingerMs: NO_LINGER_TIMEOUT });
    await p.register('t');
    const controller = new AbortController();
    const aborted = p.send('t', 'gone', { signal: controller.signal });
    const kept = p.send('t', 'kept');
    controller.abort();
    expect((await rejection(aborted)).code).toBe('ABORTED');
    await p.flush();
    await kept;
    expect(gateway.log('t').map((m) => m.value)).toEqual(['kept']);
  });

  it('aborts a call that waits between retries', async () => {
    const p = producer({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000, deadlineMs: 60_000 } });
    gateway.failNext('listTopics', { kind: 'error', code: Code.Unavailable }, { kind: 'error', code: Code.Unavailable });
    const controller = new AbortController();
    const listing = p.listTopics({ signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    expect((await rejection(listing)).code).toBe('ABORTED');
  });
});

describe('flush and close', () => {
  it('flush sends lingering batches and waits for them', async () => {
    const p = producer({ lingerMs: NO_LINGER_TIMEOUT });
    const sends = [p.send('t', 'a'), p.send('t', 'b')];
    await p.flush();
    expect(gateway.log('t').map((m) => m.value)).toEqual(['a', 'b']);
    await expect(Promise.all(sends)).resolves.toHaveLength(2);
  });

  it('close drains pending sends, then refuses new calls with CLOSED', async () => {
    const p = producer({ lingerMs: NO_LINGER_TIMEOUT });
    const sends = [p.send('t', 'a'), p.send('t', ['b', 'c'])];
    await p.close();
    await expect(Promise.all(sends)).resolves.toHaveLength(2);
    expect(gateway.log('t')).toHaveLength(3);
    expect((await rejection(p.send('t', 'd'))).code).toBe('CLOSED');
    expect((await rejection(p.listTopics())).code).toBe('CLOSED');
  });

  it('is disposable with await using', async () => {
    let pending: Promise<unknown>;
    {
      await using p = new Producer({ urls: [gateway.url], httpVersion: '1.1', lingerMs: NO_LINGER_TIMEOUT });
      pending = p.send('t', 'a');
    }
    await expect(pending).resolves.toEqual({ partition: 0, offset: 0 });
  });
});
