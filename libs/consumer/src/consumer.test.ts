import { Code } from '@connectrpc/connect';
import { deadUrl, FakeConsumerGateway } from '../test/fake-consumer-gateway.js';
import type { ConsumedMessage } from './consumed-message.js';
import type { DisconnectEvent, ReconnectEvent } from './connection-status.js';
import { Consumer } from './consumer.js';
import { ConsumerError } from './errors/consumer-error.js';
import type { ConsumerOptions } from './options.js';

const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5, deadlineMs: 5_000 };

let gateway: FakeConsumerGateway;
const consumers: Consumer[] = [];

function consumer(options: Partial<ConsumerOptions> = {}): Consumer {
  // The fake gateway speaks HTTP/1.1 (its faults cut sockets); the real gateway's HTTP/2 is tested in tools/test.
  const c = new Consumer({ urls: [gateway.url], httpVersion: '1.1', retry: FAST_RETRY, ...options });
  consumers.push(c);
  return c;
}

async function rejection(promise: Promise<unknown>): Promise<ConsumerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConsumerError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Reads `count` messages from the iterator, then stops it. */
async function take(iterable: AsyncIterable<ConsumedMessage>, count: number): Promise<ConsumedMessage[]> {
  const taken: ConsumedMessage[] = [];
  if (count === 0) return taken;
  for await (const message of iterable) {
    taken.push(message);
    if (taken.length === count) break;
  }
  return taken;
}

beforeEach(async () => {
  gateway = await FakeConsumerGateway.start();
  gateway.createTopic('t', 2);
});

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.close()));
  await gateway.stop();
});

describe('register and dequeue', () => {
  it('starts at the latest offset by default and at the earliest when asked', async () => {
    gateway.publish('t', 'old');
    const latest = consumer();
    const earliest = consumer();
    await latest.register('t');
    await earliest.register('t', { from: 'earliest' });
    gateway.publish('t', 'new');
    expect((await latest.dequeue('t'))?.text()).toBe('new');
    expect((await earliest.dequeue('t'))?.text()).toBe('old');
  });

  it('returns null when nothing is pending', async () => {
    const c = consumer();
    await c.register('t');
    expect(await c.dequeue('t')).toBeNull();
  });

  it('registers lazily on the first read and remembers the id per topic', async () => {
    const c = consumer();
    expect(await c.dequeue('t')).toBeNull();
    gateway.publish('t', 'a');
    expect((await c.dequeue('t'))?.text()).toBe('a');
    expect(gateway.consumers.size).toBe(1);
    expect(new Set(gateway.dequeueRequests.map((r) => r.consumerId))).toEqual(new Set([1]));
  });

  it('reads one partition when registered for it', async () => {
    const c = consumer();
    const id = await c.register('t', { partition: 1 });
    gateway.publish('t', 'p0', 0);
    gateway.publish('t', 'p1', 1);
    expect((await c.dequeue('t'))?.text()).toBe('p1');
    expect(await c.dequeue('t')).toBeNull();
    expect(gateway.dequeueRequests.at(-1)).toMatchObject({ consumerId: id, partitionId: 1 });
  });

  it('hands out messages with numbers, bytes, key, timestamp and decoders', async () => {
    const c = consumer();
    await c.register('t');
    gateway.publish('t', '{"id":7}', 1, 'k');
    const message = await c.dequeue('t');
    expect(message).toMatchObject({ topic: 't', partition: 1, offset: 0 });
    expect(message?.value).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(message?.key)).toBe('k');
    expect(message?.timestamp).toEqual(new Date(1_700_000_000_000));
    expect(message?.json<{ id: number }>()).toEqual({ id: 7 });
  });

  it('lists topics and reports the pending size per partition', async () => {
    const c = consumer();
    expect(await c.listTopics()).toEqual(['t']);
    await c.register('t');
    gateway.publish('t', 'a', 0);
    gateway.publish('t', 'b', 1);
    gateway.publish('t', 'c', 1);
    expect(await c.size('t')).toEqual({
      size: 3,
      partitions: [
        { partition: 0, size: 1 },
        { partition: 1, size: 2 },
      ],
    });
  });

  it('refuses bad arguments without a round trip', async () => {
    const c = consumer();
    expect((await rejection(c.dequeue('no spaces'))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(c.register('t', { partition: -1 }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(c.register('t', { from: 'middle' as never }))).code).toBe('INVALID_ARGUMENT');
    expect(gateway.consumers.size).toBe(0);
  });
});

describe('errors', () => {
  it('refuses an option it does not know before any call: a misspelt `from` would start at the latest message', async () => {
    const c = consumer();
    const unknown = async (promise: Promise<unknown>) => {
      const error = await rejection(promise);
      expect(error.code).toBe('INVALID_ARGUMENT');
      return error.message;
    };
    expect(await unknown(c.register('t', { form: 'earliest' } as never))).toBe('register() options: "form" is not one of partition, from, signal');
    expect(await unknown(c.poll('t', { max: 5 } as never))).toContain('poll() options: "max"');
    expect(await unknown(c.dequeue('t', { timeout: 5 } as never))).toContain('dequeue() options: "timeout"');
    expect(await unknown(c.size('t', { timeout: 5 } as never))).toContain('size() options: "timeout"');
    expect(await unknown(c.listTopics({ timeout: 5 } as never))).toContain('listTopics() options: "timeout"');
    expect(await unknown(c.messages('t', { batch: 5 } as never).next())).toContain('messages() options: "batch"');
    expect(() => c.statusEvents({ timeout: 5 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(gateway.consumers.size).toBe(0);
    expect(gateway.dequeueRequests).toHaveLength(0);
  });

  it.each([
    ['PERMISSION_DENIED', Code.PermissionDenied, 'PERMISSION_DENIED'],
    ['OFFSET_OUT_OF_RANGE', Code.OutOfRange, 'INTERNAL'],
    [undefined, Code.NotFound, 'NOT_FOUND'],
    [undefined, Code.InvalidArgument, 'INVALID_ARGUMENT'],
  ])('maps header %s / Connect code %s to %s and does not retry', async (partqCode, code, expected) => {
    const c = consumer();
    await c.register('t');
    gateway.failNext('dequeue', { kind: 'error', code, ...(partqCode === undefined ? {} : { partqCode }), message: 'refused' });
    const error = await rejection(c.dequeue('t'));
    expect(error).toMatchObject({ code: expected, retriable: false, message: 'refused' });
    if (partqCode !== undefined) expect(error.serverCode).toBe(partqCode);
    expect(gateway.dequeueRequests).toHaveLength(1);
  });

  it('treats an EMPTY answer as nothing pending', async () => {
    const c = consumer();
    await c.register('t');
    gateway.failNext('dequeue', { kind: 'error', code: Code.NotFound, partqCode: 'EMPTY' });
    expect(await c.dequeue('t')).toBeNull();
  });

  it('retries transient failures and emits disconnect then reconnect', async () => {
    const c = consumer();
    await c.register('t');
    gateway.publish('t', 'a');
    const events: string[] = [];
    c.on('disconnect', (e) => events.push(`disconnect:${e.error.code}`));
    c.on('reconnect', (e: ReconnectEvent) => events.push(`reconnect:${e.url === gateway.url}`));
    gateway.failNext('dequeue', { kind: 'reset' }, { kind: 'error', code: Code.Unavailable, partqCode: 'UNAVAILABLE' });
    expect((await c.dequeue('t'))?.text()).toBe('a');
    expect(events).toEqual(['disconnect:UNAVAILABLE', 'reconnect:true']);
    expect(gateway.dequeueRequests).toHaveLength(3);
  });

  it('gives up at the retry deadline with the last error', async () => {
    const c = consumer({ retry: { baseDelayMs: 20, maxDelayMs: 20, deadlineMs: 60 } });
    await c.register('t');
    gateway.failNext('size', ...Array.from({ length: 50 }, () => ({ kind: 'error', code: Code.Unavailable }) as const));
    const error = await rejection(c.size('t'));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retriable: true });
  });

  it('moves to the next gateway when one is unreachable', async () => {
    const c = new Consumer({ urls: [await deadUrl(), gateway.url], httpVersion: '1.1', retry: FAST_RETRY });
    consumers.push(c);
    await c.register('t', { from: 'earliest' });
    gateway.publish('t', 'a');
    expect((await c.dequeue('t'))?.text()).toBe('a');
  });
});

describe('retry-safe dequeue', () => {
  const HEX_ID = /^[0-9a-f]{32}$/;

  it('gives every dequeue a fresh request id', async () => {
    const c = consumer();
    await c.register('t');
    gateway.publish('t', 'a');
    gateway.publish('t', 'b');
    await c.dequeue('t');
    await c.dequeue('t');
    await c.dequeue('t');
    const ids = gateway.dequeueRequests.map((r) => r.requestId);
    for (const id of ids) expect(id).toMatch(HEX_ID);
    expect(new Set(ids).size).toBe(3);
  });

  it('resends the id after a lost answer and gets the same message, not the next', async () => {
    const c = consumer({ requestTimeoutMs: 200 });
    await c.register('t');
    gateway.publish('t', 'a');
    gateway.publish('t', 'b');
    gateway.failNext('dequeue', { kind: 'lose-answer' });
    expect((await c.dequeue('t'))?.text()).toBe('a');
    const [lost, retry] = gateway.dequeueRequests;
    expect(retry?.requestId).toBe(lost?.requestId);
    expect(gateway.replays).toBe(1);
    expect((await c.dequeue('t'))?.text()).toBe('b');
    expect(gateway.dequeueRequests[2]?.requestId).not.toBe(lost?.requestId);
  });

  it('leaves the id of a dequeue that gave up to the next one, which gets its messages', async () => {
    const c = consumer({ retry: { deadlineMs: 0 } });
    await c.register('t');
    gateway.publish('t', 'a');
    gateway.publish('t', 'b');
    gateway.failNext('dequeue', { kind: 'lose-answer' });
    expect((await rejection(c.dequeue('t'))).code).toBe('UNAVAILABLE');
    expect((await c.dequeue('t'))?.text()).toBe('a');
    expect((await c.dequeue('t'))?.text()).toBe('b');
    const ids = gateway.dequeueRequests.map((r) => r.requestId);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('keeps the id of an aborted dequeue for the next one', async () => {
    const c = consumer();
    await c.register('t');
    gateway.publish('t', 'a');
    gateway.failNext('dequeue', { kind: 'lose-answer' });
    const controller = new AbortController();
    // Aborted between the lost answer and its retry.
    c.once('disconnect', () => controller.abort());
    const aborted = c.dequeue('t', { signal: controller.signal });
    expect((await rejection(aborted)).code).toBe('ABORTED');
    expect((await c.dequeue('t'))?.text()).toBe('a');
    expect(gateway.replays).toBe(1);
  });

  it('runs dequeues of one topic one at a time, so a retry still finds its delivery the last one', async () => {
    const c = consumer({ requestTimeoutMs: 100 });
    await c.register('t');
    for (const value of ['a', 'b', 'c']) gateway.publish('t', value);
    gateway.failNext('dequeue', { kind: 'lose-answer' });
    const got = await Promise.all([c.dequeue('t'), c.dequeue('t'), c.dequeue('t')]);
    expect(got.map((m) => m?.text())).toEqual(['a', 'b', 'c']);
    expect(await c.dequeue('t')).toBeNull();
  });

  it('messages() first gets the messages of a dequeue whose answer was lost, with its id, then streams', async () => {
    const c = consumer({ retry: { deadlineMs: 0 } });
    await c.register('t');
    for (const value of ['a', 'b', 'c']) gateway.publish('t', value);
    gateway.failNext('dequeue', { kind: 'lose-answer' });
    expect((await rejection(c.dequeue('t'))).code).toBe('UNAVAILABLE');
    expect((await take(c.messages('t'), 3)).map((m) => m.text())).toEqual(['a', 'b', 'c']);
    expect(gateway.replays).toBe(1);
    expect(gateway.consumeRequests).toHaveLength(1);
  });
});

describe('poll()', () => {
  it('returns up to maxMessages at once, buffered ones first, and [] when nothing is pending', async () => {
    const c = consumer({ maxMessages: 3 });
    await c.register('t');
    for (let i = 0; i < 5; i++) gateway.publish('t', `m${i}`);
    expect((await c.poll('t')).map((m) => m.text())).toEqual(['m0', 'm1', 'm2']);
    expect((await c.poll('t', { maxMessages: 10 })).map((m) => m.text())).toEqual(['m3', 'm4']);
    expect(await c.poll('t')).toEqual([]);
    expect((await rejection(c.poll('t', { maxMessages: 0 }))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('messages()', () => {
  it('yields messages in offset order per partition, maxMessages at a time', async () => {
    const c = consumer({ maxMessages: 3 });
    await c.register('t');
    for (let i = 0; i < 4; i++) gateway.publish('t', `p0-${i}`, 0);
    for (let i = 0; i < 3; i++) gateway.publish('t', `p1-${i}`, 1);
    const messages = await take(c.messages('t'), 7);
    for (const partition of [0, 1]) {
      const offsets = messages.filter((m) => m.partition === partition).map((m) => m.offset);
      expect(offsets).toEqual([...offsets.keys()]);
    }
    expect(gateway.consumeRequests.map((r) => r.maxMessages)).toEqual([3]);
    expect((await take(c.messages('t', { maxMessages: 7 }), 0)).length).toBe(0);
    expect((await rejection(take(c.messages('t', { maxMessages: 0 }), 1))).code).toBe('INVALID_ARGUMENT');
  });

  it('waits for messages published later on one stream, without polling', async () => {
    const c = consumer();
    await c.register('t');
    const reading = take(c.messages('t'), 2);
    setTimeout(() => gateway.publish('t', 'late-1'), 100);
    setTimeout(() => gateway.publish('t', 'late-2', 1), 200);
    expect((await reading).map((m) => m.text()).sort()).toEqual(['late-1', 'late-2']);
    expect(gateway.consumeRequests).toHaveLength(1);
    expect(gateway.dequeueRequests).toHaveLength(0);
  });

  it('yields what dequeue() and poll() fetched and nobody took first', async () => {
    const c = consumer({ maxMessages: 3 });
    await c.register('t');
    for (let i = 0; i < 5; i++) gateway.publish('t', `m${i}`);
    expect((await c.poll('t', { maxMessages: 3 })).map((m) => m.text())).toEqual(['m0', 'm1', 'm2']);
    gateway.publish('t', 'm5');
    expect((await c.poll('t', { maxMessages: 10 })).map((m) => m.text())).toEqual(['m3', 'm4', 'm5']);
    gateway.publish('t', 'm6');
    await c.dequeue('t');
    expect((await take(c.messages('t'), 0)).length).toBe(0);
    gateway.publish('t', 'm7');
    expect((await take(c.messages('t'), 1)).map((m) => m.text())).toEqual(['m7']);
  });

  it('gives back what it received but did not yield when the loop breaks; the next read gets it', async () => {
    const c = consumer({ maxMessages: 10 });
    await c.register('t');
    for (let i = 0; i < 3; i++) gateway.publish('t', `m${i}`);
    expect((await take(c.messages('t'), 1)).map((m) => m.text())).toEqual(['m0']);
    const [release] = gateway.releaseRequests;
    expect(release?.streamId).toBe(gateway.consumeRequests[0]?.streamId);
    expect(release?.next.map((p) => [p.partitionId, Number(p.offset)])).toEqual([[0, 1]]);
    expect(await c.size('t')).toMatchObject({ size: 2 });
    expect((await c.dequeue('t'))?.text()).toBe('m1');
    expect((await take(c.messages('t'), 1)).map((m) => m.text())).toEqual(['m2']);
    expect(await c.dequeue('t')).toBeNull();
  });

  it('resumes a stream cut after a delivery was made: nothing skipped, nothing doubled', async () => {
    const c = consumer({ maxMessages: 2 });
    await c.register('t', { partition: 0 });
    for (let i = 0; i < 7; i++) gateway.publish('t', `m${i}`);
    const status: string[] = [];
    c.on('disconnect', () => status.push('disconnect'));
    c.on('reconnect', () => status.push('reconnect'));
    // Two responses arrive (m0-m3); the third delivery (m4-m5) is made and lost with the connection.
    gateway.failNext('consume', { kind: 'cut-after', responses: 2 });
    expect((await take(c.messages('t'), 7)).map((m) => m.text())).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    const [first, second] = gateway.consumeRequests;
    expect(second?.streamId).toBe(first?.streamId);
    expect(first?.resume).toEqual([]);
    expect(second?.resume.map((p) => [p.partitionId, Number(p.offset)])).toEqual([[0, 4]]);
    expect(status).toEqual(['disconnect', 'reconnect']);
    expect(await c.dequeue('t')).toBeNull();
  });

  it('keeps going through transient failures, with events', async () => {
    const c = consumer();
    await c.register('t');
    const errors: string[] = [];
    const status: string[] = [];
    c.on('error', (error: ConsumerError) => errors.push(error.code));
    c.on('disconnect', () => status.push('disconnect'));
    c.on('reconnect', () => status.push('reconnect'));
    gateway.failNext('consume', { kind: 'reset' }, { kind: 'error', code: Code.Unavailable }, { kind: 'error', code: Code.DeadlineExceeded });
    const reading = take(c.messages('t'), 1);
    setTimeout(() => gateway.publish('t', 'b'), 10);
    expect((await reading).map((m) => m.text())).toEqual(['b']);
    expect(errors).toEqual(['UNAVAILABLE', 'UNAVAILABLE', 'TIMEOUT']);
    expect(status).toEqual(['disconnect', 'reconnect']);
    expect(gateway.consumeRequests).toHaveLength(4);
  });

  it('reports the same events as a stream of their own, which ends on close', async () => {
    const c = consumer();
    await c.register('t');
    const events = c.statusEvents();
    gateway.failNext('consume', { kind: 'reset' }, { kind: 'error', code: Code.Unavailable });
    const reading = take(c.messages('t'), 1);
    setTimeout(() => gateway.publish('t', 'e'), 10);
    expect((await reading).map((m) => m.text())).toEqual(['e']);
    const seen: string[] = [];
    for await (const event of events) {
      seen.push(event.type === 'error' ? `error:${event.error.code}` : `${event.type}:${event.url === gateway.url}`);
      if (event.type === 'reconnect') break;
    }
    expect(seen).toEqual(['disconnect:true', 'error:UNAVAILABLE', 'error:UNAVAILABLE', 'reconnect:true']);
    expect(c.listenerCount('disconnect') + c.listenerCount('reconnect') + c.listenerCount('error')).toBe(0);

    const idle = c.statusEvents();
    const ended = idle.next();
    await c.close();
    await expect(ended).resolves.toEqual({ done: true, value: undefined });
  });

  it('ends the status stream when its signal fires', async () => {
    const c = consumer();
    const controller = new AbortController();
    const events = c.statusEvents({ signal: controller.signal });
    const next = events.next();
    controller.abort();
    await expect(next).resolves.toMatchObject({ done: true });
    expect(c.listenerCount('reconnect')).toBe(0);
  });

  it('does not throw on transient failures when nobody listens for errors', async () => {
    const c = consumer();
    await c.register('t');
    gateway.failNext('consume', { kind: 'error', code: Code.Unavailable });
    setTimeout(() => gateway.publish('t', 'y'), 10);
    expect((await take(c.messages('t'), 1)).map((m) => m.text())).toEqual(['y']);
  });

  it('ends by throwing a permanent failure', async () => {
    const c = consumer();
    expect((await rejection(take(c.messages('missing'), 1))).code).toBe('NOT_FOUND');
    await c.register('t');
    gateway.failNext('consume', { kind: 'error', code: Code.PermissionDenied, partqCode: 'PERMISSION_DENIED' });
    expect((await rejection(take(c.messages('t'), 1))).code).toBe('PERMISSION_DENIED');
  });

  it('throws ABORTED when its signal fires, also while waiting, and gives back what it did not yield', async () => {
    const c = consumer();
    await c.register('t');
    const controller = new AbortController();
    const reading = take(c.messages('t', { signal: controller.signal }), 1);
    setTimeout(() => controller.abort(), 30);
    expect((await rejection(reading)).code).toBe('ABORTED');
    expect(gateway.releaseRequests).toHaveLength(1);
    expect(gateway.openStreams).toBe(0);
    expect((await rejection(take(c.messages('t', { signal: AbortSignal.abort() }), 1))).code).toBe('ABORTED');
  });

  it('ends quietly when the consumer closes, releasing first', async () => {
    const c = consumer();
    await c.register('t');
    const reading = take(c.messages('t'), 5);
    setTimeout(() => void c.close(), 30);
    expect(await reading).toEqual([]);
    expect(gateway.releaseRequests).toHaveLength(1);
  });

  it('close() releases an iteration suspended at a yield', async () => {
    const c = consumer({ maxMessages: 5 });
    await c.register('t');
    for (let i = 0; i < 3; i++) gateway.publish('t', `m${i}`);
    const iterator = c.messages('t')[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.text()).toBe('m0');
    await c.close();
    expect(gateway.releaseRequests.at(-1)?.next.map((p) => [p.partitionId, Number(p.offset)])).toEqual([[0, 1]]);
    expect(gateway.positionsOf(1)[0]).toBe(1);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});

describe('abort and close', () => {
  it('rejects calls with ABORTED when the signal fires', async () => {
    const c = consumer();
    const signal = AbortSignal.abort();
    for (const call of [c.register('t', { signal }), c.dequeue('t', { signal }), c.size('t', { signal }), c.listTopics({ signal })]) {
      expect((await rejection(call)).code).toBe('ABORTED');
    }
  });

  it('aborts a call that waits between retries', async () => {
    const c = consumer({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000, deadlineMs: 60_000 } });
    gateway.failNext('listTopics', { kind: 'error', code: Code.Unavailable }, { kind: 'error', code: Code.Unavailable });
    const controller = new AbortController();
    const listing = c.listTopics({ signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect((await rejection(listing)).code).toBe('ABORTED');
  });

  it('close stops calls in progress with CLOSED and refuses new ones', async () => {
    const c = consumer({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000, deadlineMs: 60_000 } });
    gateway.failNext('listTopics', { kind: 'error', code: Code.Unavailable }, { kind: 'error', code: Code.Unavailable });
    const listing = c.listTopics();
    setTimeout(() => void c.close(), 20);
    expect((await rejection(listing)).code).toBe('CLOSED');
    await c.close();
    expect((await rejection(c.dequeue('t'))).code).toBe('CLOSED');
  });

  it('is disposable with await using', async () => {
    let used: Consumer;
    {
      await using c = new Consumer({ urls: [gateway.url], httpVersion: '1.1' });
      used = c;
      await c.register('t');
    }
    expect((await rejection(used.listTopics())).code).toBe('CLOSED');
  });
});
