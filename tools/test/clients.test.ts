import { Consumer, ConsumerError, type ConsumedMessage } from '@partq/consumer';
import { Producer, ProducerError, type SendResult } from '@partq/producer';
import { ProducerService } from '@partq/proto';
import { createRpcClient, fromConnectError } from '@partq/runtime';
import { Client } from 'pg';
import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

// @partq/producer and @partq/consumer against a real cluster: the course scenario, batching and
// acks=all, abort and close, and retries across a SIGKILLed gateway.
jest.setTimeout(120_000);

let cluster: TestCluster;
const clients: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  // restart: a killed gateway comes back on the same port, as under `npm start`.
  cluster = await startTestCluster({ brokers: 3, replicas: 1, restart: true });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await cluster?.dispose();
});

function producer(options: Partial<ConstructorParameters<typeof Producer>[0]> = {}): Producer {
  const p = new Producer({ urls: [cluster.gatewayUrl], ...options });
  clients.push(p);
  return p;
}

function consumer(options: Partial<ConstructorParameters<typeof Consumer>[0]> = {}): Consumer {
  const c = new Consumer({ urls: [cluster.gatewayUrl], ...options });
  clients.push(c);
  return c;
}

/** Reads `count` messages through messages(), then checks nothing more is pending. */
async function read(c: Consumer, topic: string, count: number): Promise<ConsumedMessage[]> {
  const got: ConsumedMessage[] = [];
  if (count > 0) {
    for await (const message of c.messages(topic)) {
      got.push(message);
      if (got.length === count) break;
    }
  }
  expect(await c.dequeue(topic)).toBeNull();
  return got;
}

/** Per partition, offsets strictly increase: the log order, without repeats. */
function expectOffsetOrder(messages: ConsumedMessage[]): void {
  const last = new Map<number, number>();
  for (const m of messages) {
    expect(m.offset).toBeGreaterThan(last.get(m.partition) ?? -1);
    last.set(m.partition, m.offset);
  }
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(v) ? true : (seen.add(v), false)));
}

/** The sum of a Prometheus metric's series (those whose labels contain `labelText`) at `url`. */
async function metric(url: string, name: string, labelText = ''): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labelText)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Connect Send calls the gateway served, on their own or on a SendStream (the npm producer's way over HTTP/2). */
function gatewaySends(): Promise<number> {
  return metric(cluster.gatewayUrl, 'partq_rpc_duration_seconds_count', 'service="partq.v1.ProducerService",method="Send",code="OK"');
}

/** Send calls that came as HTTP requests of their own (not on a SendStream). */
function gatewayUnarySends(): Promise<number> {
  return metric(cluster.gatewayUrl, 'partq_gateway_http_request_duration_seconds_count', 'route="/partq.v1.ProducerService/Send"');
}

/** Connect calls of a ConsumerService method the gateway finished. */
function gatewayConsumerCalls(method: 'Dequeue' | 'Consume' | 'Release' | 'Checkpoint'): Promise<number> {
  return metric(cluster.gatewayUrl, 'partq_rpc_duration_seconds_count', `method="${method}"`);
}

/** A series of the replica's /metrics. */
function replicaMetric(name: string): Promise<number> {
  return metric(cluster.find('replica').spec.url, name);
}

/** Fetch calls the brokers finished (a long-poll counts when it ends). */
async function brokerFetches(): Promise<number> {
  const counts = await Promise.all(cluster.processes.filter((p) => p.spec.role === 'broker').map((p) => metric(p.spec.url, 'partq_rpc_duration_seconds_count', 'method="Fetch"')));
  return counts.reduce((a, b) => a + b, 0);
}

test('the course scenario: 5 producers, 3 consumers, 3 topics; every consumer gets its topics once, in order', async () => {
  const subscriptions: Record<string, string[]> = { C1: ['T1', 'T2', 'T3'], C2: ['T1', 'T3'], C3: ['T1', 'T3'] };
  const publishers: Record<string, string[]> = { P1: ['T1', 'T2', 'T3'], P2: ['T1', 'T3'], P3: ['T1'], P4: ['T2'], P5: ['T2'] };
  const admin = producer();
  for (const topic of ['T1', 'T2', 'T3']) await admin.createTopic(topic, { partitions: 3 });
  expect(await admin.listTopics()).toEqual(expect.arrayContaining(['T1', 'T2', 'T3']));

  const consumers = new Map(Object.keys(subscriptions).map((name) => [name, consumer({ maxMessages: 25 })]));
  for (const [name, topics] of Object.entries(subscriptions)) {
    for (const topic of topics) await consumers.get(name)!.register(topic);
  }

  // Each producer sends its messages to a topic in chunks, one send() at a time: per partition
  // they land in the order sent. Where each landed is what the consumers must see.
  const perTopic = 60;
  const landed = new Map<string, { value: string; result: SendResult }[]>();
  await Promise.all(
    Object.entries(publishers).flatMap(([name, topics]) => {
      const p = producer();
      return topics.map(async (topic) => {
        for (let chunk = 0; chunk < perTopic; chunk += 20) {
          const values = Array.from({ length: 20 }, (_, i) => `${name}:${topic}:${chunk + i}`);
          const results = await p.send(topic, values);
          landed.set(topic, [...(landed.get(topic) ?? []), ...values.map((value, i) => ({ value, result: results[i]! }))]);
        }
      });
    }),
  );

  for (const [name, topics] of Object.entries(subscriptions)) {
    for (const topic of topics) {
      const expected = landed.get(topic)!;
      const got = await read(consumers.get(name)!, topic, expected.length);
      expect(got.map((m) => m.text()).sort()).toEqual(expected.map((e) => e.value).sort());
      expect(duplicates(got.map((m) => m.text()))).toEqual([]);
      expectOffsetOrder(got);
      // Each message is where its send() said it landed.
      const where = new Map(expected.map((e) => [e.value, `${e.result.partition}/${e.result.offset}`]));
      for (const m of got) expect(`${m.partition}/${m.offset}`).toBe(where.get(m.text()));
      // Per partition, each producer's messages come in the order it sent them.
      const lastSequence = new Map<string, number>();
      for (const m of got) {
        const [producerName, , sequence] = m.text().split(':');
        const stream = `${producerName}@${m.partition}`;
        expect(Number(sequence)).toBeGreaterThan(lastSequence.get(stream) ?? -1);
        lastSequence.set(stream, Number(sequence));
      }
      expect(await consumers.get(name)!.size(topic)).toMatchObject({ size: 0 });
    }
  }
});

test('batching with acks "all": one Send per batch, every message committed in PostgreSQL when acknowledged', async () => {
  const p = producer({ acks: 'all', lingerMs: 50, maxBatchCount: 100 });
  await p.createTopic('batched', { partitions: 3 });
  await p.register('batched');
  const sendsBefore = await gatewaySends();
  const unarySendsBefore = await gatewayUnarySends();

  const count = 500;
  const results = await Promise.all(Array.from({ length: count }, (_, i) => p.send('batched', `b${i}`)));
  expect(new Set(results.map((r) => `${r.partition}/${r.offset}`)).size).toBe(count);
  // 500 send() calls made at once travel in batches of up to 100: a handful of RPCs, not 500.
  const sends = (await gatewaySends()) - sendsBefore;
  expect(sends).toBeGreaterThanOrEqual(5);
  expect(sends).toBeLessThan(50);
  // Over HTTP/2 (the default) they travelled as messages of one SendStream, not as requests of their own.
  expect((await gatewayUnarySends()) - unarySendsBefore).toBe(0);

  // acks=all: acknowledged only once committed in the Central DB, so every one is there now.
  const db = new Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ count: string }>(
      'SELECT sum(b.next_offset - b.base_offset) AS count FROM record_batches b JOIN topics t ON t.id = b.topic_id WHERE t.name = $1',
      ['batched'],
    );
    expect(Number(rows[0]!.count)).toBe(count);
  } finally {
    await db.end();
  }

  const c = consumer({ maxMessages: 200 });
  await c.register('batched', { from: 'earliest' });
  const got = await read(c, 'batched', count);
  expect(got.map((m) => m.text()).sort()).toEqual(results.map((_, i) => `b${i}`).sort());
});

test('abort via signal: an aborted send never lands, an aborted read stops', async () => {
  const p = producer({ lingerMs: 10_000 });
  await p.register('aborts');
  const c = consumer();
  await c.register('aborts', { from: 'earliest' });

  // Still lingering in its batch when aborted: withdrawn, never sent.
  const controller = new AbortController();
  const aborted = p.send('aborts', 'never', { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
  await expect(p.send('aborts', 'x', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(ProducerError);
  const kept = p.send('aborts', 'kept');
  await p.flush();
  await expect(kept).resolves.toMatchObject({ offset: expect.any(Number) });

  expect((await c.dequeue('aborts'))?.text()).toBe('kept');
  expect(await c.dequeue('aborts')).toBeNull();

  // An iteration waiting for messages ends with ABORTED when its signal fires.
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 100);
  const iterate = async () => {
    for await (const m of c.messages('aborts', { signal: stop.signal })) throw new Error(`unexpected ${m.text()}`);
  };
  await expect(iterate()).rejects.toMatchObject({ code: 'ABORTED' });
  await expect(c.dequeue('aborts', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(ConsumerError);
});

test('close() drains: pending sends are sent before it resolves; a closed consumer ends its iteration', async () => {
  const p = new Producer({ urls: [cluster.gatewayUrl], lingerMs: 10_000 });
  await p.register('drains');
  const c = consumer();
  await c.register('drains', { from: 'earliest' });

  const sends = Array.from({ length: 100 }, (_, i) => p.send('drains', `d${i}`));
  await p.close();
  // Without close() the batch would linger 10 s: that the cluster holds all 100 now is the drain.
  expect(await c.size('drains')).toMatchObject({ size: 100 });
  const results = await Promise.all(sends);
  expect(new Set(results.map((r) => `${r.partition}/${r.offset}`)).size).toBe(100);
  await expect(p.send('drains', 'late')).rejects.toMatchObject({ code: 'CLOSED' });

  const got = await read(c, 'drains', 100);
  expect(got.map((m) => m.text()).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `d${i}`).sort());

  const reader = consumer();
  await reader.register('drains');
  const iteration = (async () => {
    const seen: string[] = [];
    for await (const m of reader.messages('drains')) seen.push(m.text());
    return seen;
  })();
  setTimeout(() => void reader.close(), 100);
  await expect(iteration).resolves.toEqual([]);
});

/** Checks that each partition holds the messages in the order they were sent (`r<i>`: i is the send order). */
function expectSendOrder(messages: ConsumedMessage[]): void {
  const last = new Map<number, number>();
  const late: string[] = [];
  for (const m of [...messages].sort((a, b) => a.offset - b.offset)) {
    const sent = Number(m.text().slice(1));
    if (sent < (last.get(m.partition) ?? -1)) late.push(`${m.text()} at ${m.partition}/${m.offset}`);
    last.set(m.partition, Math.max(sent, last.get(m.partition) ?? -1));
  }
  expect(late).toEqual([]);
}

test('a producer retrying across a gateway restart lands every message exactly once, in the order sent on each partition', async () => {
  const p = producer({ lingerMs: 2, maxBatchCount: 50, retry: { maxDelayMs: 500 } });
  await p.createTopic('restart-produce', { partitions: 3 });
  const c = consumer({ maxMessages: 500 });
  await c.register('restart-produce', { from: 'earliest' });

  const total = 3000;
  let acknowledged = 0;
  let killed: Promise<void> | undefined;
  const sends: Promise<SendResult>[] = [];
  for (let i = 0; i < total; i++) {
    const sent = p.send('restart-produce', `r${i}`);
    sends.push(sent);
    sent.then(
      () => {
        acknowledged++;
        // Kill the gateway while sends are in flight; restart: true brings it back on the same port.
        if (acknowledged === 500) killed = cluster.find('gateway').kill('SIGKILL');
      },
      () => undefined, // reported by Promise.all below
    );
    if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const results = await Promise.all(sends);
  expect(killed).toBeDefined();
  await killed;
  expect(new Set(results.map((r) => `${r.partition}/${r.offset}`)).size).toBe(total);

  const got = await read(c, 'restart-produce', total);
  const values = got.map((m) => m.text());
  expect(duplicates(values)).toEqual([]);
  expect(new Set(values)).toEqual(new Set(Array.from({ length: total }, (_, i) => `r${i}`)));
  expectOffsetOrder(got);
  // Eight batches were in flight when the gateway died, and each was retried on its own.
  expectSendOrder(got);
});

test('a batch naming a predecessor its broker has not stored is refused with SEQUENCE_GAP and writes nothing; it lands once the predecessor did', async () => {
  const p = producer();
  await p.createTopic('chained', { partitions: 1 });
  const producerId = await p.register('chained');
  const rpc = createRpcClient(ProducerService, cluster.gatewayUrl);
  const send = async (...messages: { text: string; sequence: bigint; previousSequence?: bigint }[]) => {
    const answer = await rpc.send({ topic: 'chained', producerId, messages: messages.map(({ text, ...m }) => ({ payload: Buffer.from(text), partitionId: 0, ...m })) });
    return answer.results.map((r) => r.offset);
  };

  const refused = await send({ text: 'second', sequence: 5n, previousSequence: 3n }).then(
    () => undefined,
    (error: unknown) => fromConnectError(error),
  );
  expect(refused?.code).toBe('SEQUENCE_GAP');
  expect(refused?.details).toMatchObject({ producerId, sequence: 5, previousSequence: 3 });
  expect(await send({ text: 'first', sequence: 3n })).toEqual([0n]);
  expect(await send({ text: 'second', sequence: 5n, previousSequence: 3n })).toEqual([1n]);
  // Two batches in one Send (the same Append): the predecessor earlier in it counts.
  expect(await send({ text: 'third', sequence: 6n, previousSequence: 5n }, { text: 'fourth', sequence: 8n, previousSequence: 6n })).toEqual([2n, 3n]);

  const c = consumer();
  await c.register('chained', { from: 'earliest' });
  expect((await read(c, 'chained', 4)).map((m) => m.text())).toEqual(['first', 'second', 'third', 'fourth']);
});

test('over REST too: a previous_sequence the broker has not stored is 409 SEQUENCE_GAP and writes nothing; the message lands after its predecessor', async () => {
  const rest = new RestClient(cluster.gatewayUrl);
  await rest.post('/topics', { topic_name: 'chained-rest', partitions: 1 });
  const producerId = await rest.registerProducer('chained-rest');
  const early = await rest.produce('chained-rest', producerId, 'second', { sequence: 5, previous_sequence: 3 });
  expect({ status: early.status, code: early.body.code }).toEqual({ status: 409, code: 'SEQUENCE_GAP' });
  expect((await rest.produce('chained-rest', producerId, 'first', { sequence: 3 })).body).toMatchObject({ status: 'success', offset: 0 });
  expect((await rest.produce('chained-rest', producerId, 'second', { sequence: 5, previous_sequence: 3 })).body).toMatchObject({ status: 'success', offset: 1 });
  const reader = consumer();
  await reader.register('chained-rest', { from: 'earliest' });
  expect((await read(reader, 'chained-rest', 2)).map((m) => m.text())).toEqual(['first', 'second']);
});

/**
 * Makes the gateway die while a delivery is inside the replica: the replica is stopped (SIGSTOP), so
 * its stream to the gateway stalls there; the gateway is SIGKILLed; the replica resumes and commits
 * and sends a delivery that now has nowhere to go. The gateway comes back (restart: true).
 */
async function loseADelivery(): Promise<void> {
  const replica = cluster.find('replica');
  await replica.kill('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await cluster.find('gateway').kill('SIGKILL');
  await replica.kill('SIGCONT');
}

test("a consumer's messages() goes on across a gateway SIGKILL mid-stream: nothing skipped, nothing doubled", async () => {
  const p = producer();
  await p.createTopic('restart-consume', { partitions: 3 });
  const c = consumer({ maxMessages: 20, retry: { maxDelayMs: 300 } });
  await c.register('restart-consume');
  const total = 3000;
  // ~1 KiB each: far more than HTTP/2 flow control lets the cluster have in flight to the client,
  // so when the gateway dies most messages are still to come and the stream must resume. (With
  // tiny messages the whole rest could already sit in the client's buffers, and no outage be seen.)
  const padding = 'x'.repeat(1024);
  const values = Array.from({ length: total }, (_, i) => `c${i} ${padding}`);
  for (let i = 0; i < total; i += 500) await p.send('restart-consume', values.slice(i, i + 500));

  const outages: string[] = [];
  c.on('disconnect', (event) => outages.push(event.error.code));
  const rewoundBefore = await replicaMetric('partq_replica_rewound_messages_total');
  const got: ConsumedMessage[] = [];
  let outage: Promise<void> | undefined;
  // A skipped message would leave the iteration waiting forever: stop after 20 s without one.
  const idle = new AbortController();
  const idleTimer = setTimeout(() => idle.abort(), 20_000);
  try {
    for await (const message of c.messages('restart-consume', { signal: idle.signal })) {
      idleTimer.refresh();
      got.push(message);
      if (got.length === 700) outage = loseADelivery();
      // Slow enough that the outage lands mid-stream.
      if (got.length % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      if (got.length === total) break;
    }
  } catch (error) {
    if (!(error instanceof ConsumerError && error.code === 'ABORTED')) throw error;
  } finally {
    clearTimeout(idleTimer);
  }
  await outage;

  const texts = got.map((m) => m.text());
  const seen = new Set(texts);
  expect(values.filter((v) => !seen.has(v))).toEqual([]);
  expect(duplicates(texts)).toEqual([]);
  expect(texts).toHaveLength(total);
  expectOffsetOrder(got);
  expect(await c.dequeue('restart-consume')).toBeNull();
  // The outage was seen, and deliveries lost with the gateway were given back on resume.
  expect(outages.length).toBeGreaterThanOrEqual(1);
  expect(await replicaMetric('partq_replica_rewound_messages_total')).toBeGreaterThan(rewoundBefore);
});

test('messages() gets what is produced after it started from a stream, with no polling while idle', async () => {
  const p = producer();
  await p.createTopic('pushed', { partitions: 3 });
  const c = consumer();
  await c.register('pushed');
  const got: string[] = [];
  const reading = (async () => {
    for await (const m of c.messages('pushed')) {
      got.push(m.text());
      if (got.length === 3) return;
    }
  })();
  // Wait until the stream is open and idle at the replica.
  while ((await replicaMetric('partq_replica_consume_streams')) < 1) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = { dequeues: await gatewayConsumerCalls('Dequeue'), wakeups: await replicaMetric('partq_replica_stream_wakeups_total'), fetches: await brokerFetches() };
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const after = { dequeues: await gatewayConsumerCalls('Dequeue'), wakeups: await replicaMetric('partq_replica_stream_wakeups_total'), fetches: await brokerFetches() };
  // Idle for 2 s: the stream waits on long-polls; nothing asks again and again.
  expect(after.dequeues - before.dequeues).toBe(0);
  expect(after.wakeups - before.wakeups).toBeLessThanOrEqual(1);
  expect(after.fetches - before.fetches).toBeLessThanOrEqual(3);

  await p.send('pushed', ['x', 'y', 'z']);
  await reading;
  expect(got.sort()).toEqual(['x', 'y', 'z']);
  expect((await gatewayConsumerCalls('Dequeue')) - before.dequeues).toBe(0);
});

test('a long messages() says what it handed out beside its stream, which stays open: the floor in PostgreSQL follows', async () => {
  const p = producer();
  await p.createTopic('checkpointed', { partitions: 1 });
  const c = consumer({ maxMessages: 5 });
  await c.register('checkpointed');
  const before = { consumes: await gatewayConsumerCalls('Consume'), checkpoints: await gatewayConsumerCalls('Checkpoint') };
  const got: string[] = [];
  const reading = (async () => {
    for await (const m of c.messages('checkpointed')) {
      got.push(m.text());
      if (got.length === 60) return;
    }
  })();
  // Past the consumer's 5 s checkpoint interval (6 s), a few messages at a time.
  for (let i = 0; i < 60; i += 2) {
    await p.send('checkpointed', [`k${i}`, `k${i + 1}`]);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await reading;
  expect(got).toEqual(Array.from({ length: 60 }, (_, i) => `k${i}`));
  expect((await gatewayConsumerCalls('Consume')) - before.consumes).toBe(1);
  expect((await gatewayConsumerCalls('Checkpoint')) - before.checkpoints).toBeGreaterThanOrEqual(1);

  // The stream's floor rose while it ran: retention may delete what was handed out before it.
  const db = new Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ stream_from: string; next_offset: string }>(
      `SELECT cp.stream_from, cp.next_offset FROM consumer_positions cp
       JOIN consumers co ON co.id = cp.consumer_id JOIN topics t ON t.id = co.topic_id WHERE t.name = $1`,
      ['checkpointed'],
    );
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.stream_from)).toBeGreaterThan(0);
    expect(Number(rows[0]!.stream_from)).toBeLessThanOrEqual(Number(rows[0]!.next_offset));
  } finally {
    await db.end();
  }
});

test('breaking out of messages() gives back what it received and did not yield: nothing lost, nothing repeated', async () => {
  const p = producer();
  await p.createTopic('released', { partitions: 2 });
  const c = consumer({ maxMessages: 50 });
  await c.register('released', { from: 'earliest' });
  const values = Array.from({ length: 200 }, (_, i) => `r${i}`);
  await p.send('released', values);

  const first: ConsumedMessage[] = [];
  for await (const m of c.messages('released')) {
    first.push(m);
    if (first.length === 7) break;
  }
  const rest: ConsumedMessage[] = [];
  for await (const m of c.messages('released', { maxMessages: 30 })) {
    rest.push(m);
    if (first.length + rest.length === values.length) break;
  }
  expect(await c.dequeue('released')).toBeNull();
  const texts = [...first, ...rest].map((m) => m.text());
  expect(duplicates(texts)).toEqual([]);
  expect(texts.sort()).toEqual([...values].sort());
  expectOffsetOrder([...first, ...rest]);
});

test('an abort signal ends a waiting messages() promptly', async () => {
  await producer().createTopic('prompt-abort', { partitions: 1 });
  const c = consumer();
  await c.register('prompt-abort');
  const stop = new AbortController();
  const reading = (async () => {
    for await (const m of c.messages('prompt-abort', { signal: stop.signal })) throw new Error(`unexpected ${m.text()}`);
  })();
  while ((await replicaMetric('partq_replica_consume_streams')) < 1) await new Promise((resolve) => setTimeout(resolve, 20));
  const started = Date.now();
  stop.abort();
  await expect(reading).rejects.toMatchObject({ code: 'ABORTED' });
  // The iteration ends at once; its Release is one quick call.
  expect(Date.now() - started).toBeLessThan(2_000);
});
