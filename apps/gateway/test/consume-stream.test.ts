import type { MessageInitShape } from '@bufbuild/protobuf';
import { ConsumerService, ProducerService, type ConsumedMessage, type ConsumerServiceConsumeRequestSchema } from '@partq/proto';
import { closeRpcTransports, createRpcClient, fromConnectError } from '@partq/runtime';
import { startFakeCluster, type FakeCluster } from './fakes/fake-cluster.js';
import { waitUntil } from './wait.js';

type ConsumeRequest = MessageInitShape<typeof ConsumerServiceConsumeRequestSchema>;

// ConsumerService.Consume (a server stream) and Release, relayed by a real gateway to a fake replica.
let cluster: FakeCluster;
let producerId: number;
const producer = () => createRpcClient(ProducerService, cluster.gateway.url);
const consumer = () => createRpcClient(ConsumerService, cluster.gateway.url);
const text = (m: ConsumedMessage) => Buffer.from(m.payload).toString();

beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 1, replicas: 1 });
  await producer().createTopic({ name: 'streamed', partitions: 2 });
  producerId = (await producer().register({ topic: 'streamed' })).producerId;
});
afterAll(async () => {
  closeRpcTransports(cluster.gateway.url);
  await cluster.stop();
});

const replica = () => cluster.replicas[0]!;

async function send(...values: string[]): Promise<void> {
  await producer().send({ topic: 'streamed', producerId, messages: values.map((v) => ({ payload: Buffer.from(v), partitionId: 0 })) });
}

/** Reads a Consume stream in the background. */
function open(request: ConsumeRequest) {
  const controller = new AbortController();
  const responses: ConsumedMessage[][] = [];
  const ended = (async () => {
    try {
      for await (const response of consumer().consume(request, { signal: controller.signal })) responses.push(response.messages);
      return 'OK';
    } catch (error) {
      return controller.signal.aborted ? 'CANCELLED' : fromConnectError(error).code;
    }
  })();
  return {
    responses,
    ended,
    messages: () => responses.flat(),
    cancel: async () => {
      controller.abort();
      return ended;
    },
  };
}

test('relays the replica stream: an empty response at once, then the messages as they come', async () => {
  const { consumerId } = await consumer().register({ topic: 'streamed' });
  const stream = open({ topic: 'streamed', consumerId, streamId: 'relay', maxMessages: 5000, resume: [{ partitionId: 1, offset: 0n }] });
  try {
    await waitUntil(() => stream.responses.length >= 1);
    expect(stream.responses[0]).toEqual([]);
    await send('a', 'b');
    await waitUntil(() => stream.messages().length >= 2);
    expect(stream.messages().map(text)).toEqual(['a', 'b']);
  } finally {
    await stream.cancel();
  }
  const forwarded = replica().streams.at(-1)!;
  expect(forwarded).toMatchObject({ consumerId, topic: 'streamed', streamId: 'relay', maxMessages: 1000 });
  expect(forwarded.resume.map((p) => [p.partitionId, p.offset])).toEqual([[1, 0n]]);
});

test('Release reaches the consumer’s replica', async () => {
  const { consumerId } = await consumer().register({ topic: 'streamed' });
  await consumer().release({ topic: 'streamed', consumerId, streamId: 'gone', next: [{ partitionId: 0, offset: 3n }] });
  const release = replica().releases.at(-1)!;
  expect(release).toMatchObject({ consumerId, topic: 'streamed', streamId: 'gone' });
  expect(release.next.map((p) => [p.partitionId, p.offset])).toEqual([[0, 3n]]);
});

test('Checkpoint reaches the consumer’s replica', async () => {
  const { consumerId } = await consumer().register({ topic: 'streamed' });
  await consumer().checkpoint({ topic: 'streamed', consumerId, streamId: 'reading', next: [{ partitionId: 1, offset: 7n }] });
  const checkpoint = replica().checkpoints.at(-1)!;
  expect(checkpoint).toMatchObject({ consumerId, topic: 'streamed', streamId: 'reading' });
  expect(checkpoint.next.map((p) => [p.partitionId, p.offset])).toEqual([[1, 7n]]);
});

test('bad input is refused with stable codes before anything reaches the replica', async () => {
  const { consumerId } = await consumer().register({ topic: 'streamed' });
  const { consumerId: single } = await consumer().register({ topic: 'streamed', partitionId: 0 });
  const streamsBefore = replica().streams.length;
  const codeOf = (request: ConsumeRequest) => open({ topic: 'streamed', consumerId, streamId: 's', ...request }).ended;
  expect(await codeOf({ streamId: '' })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ streamId: 'x'.repeat(129) })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ resume: [{ partitionId: 0, offset: -1n }] })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ resume: [{ partitionId: 0, offset: 1n }, { partitionId: 0, offset: 2n }] })).toBe('INVALID_ARGUMENT');
  expect(await codeOf({ resume: [{ partitionId: 7, offset: 0n }] })).toBe('NOT_FOUND');
  expect(await codeOf({ consumerId: 777_777 })).toBe('NOT_FOUND');
  expect(await codeOf({ topic: 'missing' })).toBe('NOT_FOUND');
  expect(await codeOf({ consumerId: single, partitionId: 1 })).toBe('PERMISSION_DENIED');
  const release = await consumer()
    .release({ topic: 'streamed', consumerId, streamId: '' })
    .then(() => 'OK', (error: unknown) => fromConnectError(error).code);
  expect(release).toBe('INVALID_ARGUMENT');
  const checkpointCode = (request: Partial<{ streamId: string; next: { partitionId: number; offset: bigint }[] }>) =>
    consumer()
      .checkpoint({ topic: 'streamed', consumerId, streamId: 's', ...request })
      .then(() => 'OK', (error: unknown) => fromConnectError(error).code);
  expect(await checkpointCode({ streamId: '' })).toBe('INVALID_ARGUMENT');
  expect(await checkpointCode({ next: [{ partitionId: 0, offset: -1n }] })).toBe('INVALID_ARGUMENT');
  expect(await checkpointCode({ next: [{ partitionId: 9, offset: 1n }] })).toBe('NOT_FOUND');
  expect(replica().streams.length).toBe(streamsBefore);
  expect(replica().releases.every((r) => r.streamId !== '')).toBe(true);
  expect(replica().checkpoints.every((c) => c.streamId === 'reading')).toBe(true);
});

test('a replica failing mid-stream ends the client’s stream with UNAVAILABLE, whatever its code', async () => {
  const { consumerId } = await consumer().register({ topic: 'streamed' });
  const stream = open({ topic: 'streamed', consumerId, streamId: 'broken' });
  await waitUntil(() => stream.responses.length >= 1);
  replica().breakStreams('INTERNAL');
  expect(await stream.ended).toBe('UNAVAILABLE');
});

test('a stopping gateway ends its streams at once with UNAVAILABLE (this test stops the gateway: it runs last)', async () => {
  const { consumerId } = await consumer().register({ topic: 'streamed' });
  const stream = open({ topic: 'streamed', consumerId, streamId: 'stopping' });
  await waitUntil(() => stream.responses.length >= 1);
  const started = Date.now();
  await cluster.gateway.stop();
  expect(await stream.ended).toBe('UNAVAILABLE');
  expect(Date.now() - started).toBeLessThan(5_000);
});
