import { create, toBinary } from '@bufbuild/protobuf';
import { ConsumerService, ProducerService, SendMessageBatchSchema } from '@partq/proto';
import { closeRpcTransports, createRpcClient, fromConnectError } from '@partq/runtime';
import { startFakeCluster, type FakeCluster } from './fakes/fake-cluster.js';

const MAX_MESSAGE_BYTES = 2048;
let cluster: FakeCluster;
const producer = () => createRpcClient(ProducerService, cluster.gateway.url);
const consumer = () => createRpcClient(ConsumerService, cluster.gateway.url);
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 2, replicas: 1, gateway: { maxMessageBytes: MAX_MESSAGE_BYTES } });
});
afterAll(async () => {
  closeRpcTransports(cluster.gateway.url);
  await cluster.stop();
});

/** The partq code a failed call carried. */
async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    return fromConnectError(error).code;
  }
  throw new Error('the call succeeded');
}

test('ProducerService: create, list, register and send a batch', async () => {
  const created = await producer().createTopic({ name: 'rpc', partitions: 2 });
  expect(created.topic).toMatchObject({ name: 'rpc', partitionCount: 2 });
  expect((await producer().listTopics({})).topics).toEqual(['rpc']);
  expect((await consumer().listTopics({})).topics).toEqual(['rpc']);

  const registered = await producer().register({ topic: 'rpc' });
  expect(registered.partitionCount).toBe(2);
  const sent = await producer().send({
    topic: 'rpc',
    producerId: registered.producerId,
    messages: [
      { payload: bytes('a'), partitionId: 0 },
      { payload: bytes('b'), partitionId: 1, sequence: 7n },
      { payload: new Uint8Array([0, 255]), partitionId: 0, key: bytes('k') },
    ],
  });
  expect(sent.results.map((r) => [r.partitionId, r.offset, r.duplicate])).toEqual([
    [0, 0n, false],
    [1, 0n, false],
    [0, 1n, false],
  ]);
  const again = await producer().send({ topic: 'rpc', producerId: registered.producerId, messages: [{ payload: bytes('b'), partitionId: 1, sequence: 7n }] });
  expect(again.results[0]).toMatchObject({ partitionId: 1, offset: 0n, duplicate: true });
});

test('ConsumerService: dequeue up to max_messages, an empty list when nothing is pending, size', async () => {
  const { consumerId } = await consumer().register({ topic: 'rpc', partitionId: 0, fromEarliest: true });
  expect((await consumer().size({ topic: 'rpc', consumerId })).size).toBe(2n);
  const first = await consumer().dequeue({ topic: 'rpc', consumerId, maxMessages: 10 });
  expect(first.messages.map((m) => [m.offset, Buffer.from(m.payload).toString('hex')])).toEqual([
    [0n, Buffer.from('a').toString('hex')],
    [1n, '00ff'],
  ]);
  expect(Buffer.from(first.messages[1]!.key!).toString()).toBe('k');
  expect((await consumer().dequeue({ topic: 'rpc', consumerId, maxMessages: 10 })).messages).toEqual([]);
  expect((await consumer().size({ topic: 'rpc', consumerId })).size).toBe(0n);
});

test('errors keep their partq code over Connect', async () => {
  const { producerId } = await producer().register({ topic: 'rpc' });
  const { producerId: strangerId } = await producer().register({ topic: 'stranger' });
  expect(await codeOf(producer().createTopic({ name: 'rpc', partitions: 1 }))).toBe('ALREADY_EXISTS');
  expect(await codeOf(producer().createTopic({ name: 'bad name', partitions: 1 }))).toBe('INVALID_ARGUMENT');
  expect(await codeOf(producer().send({ topic: 'nope', producerId, messages: [{ payload: bytes('m') }] }))).toBe('NOT_FOUND');
  expect(await codeOf(producer().send({ topic: 'rpc', producerId: strangerId, messages: [{ payload: bytes('m') }] }))).toBe('PERMISSION_DENIED');
  expect(await codeOf(producer().send({ topic: 'rpc', producerId, messages: [{ payload: new Uint8Array(MAX_MESSAGE_BYTES + 1) }] }))).toBe('PAYLOAD_TOO_LARGE');
  expect(await codeOf(producer().send({ topic: 'rpc', producerId, messages: [] }))).toBe('INVALID_ARGUMENT');
  expect(await codeOf(consumer().dequeue({ topic: 'rpc', consumerId: 777777 }))).toBe('NOT_FOUND');
  expect(await codeOf(consumer().register({ topic: 'missing' }))).toBe('NOT_FOUND');
});

test('ProducerService: messages_data (what @partq/producer sends) is answered in the packed fields; malformed is INVALID_ARGUMENT and writes nothing', async () => {
  const { producerId } = await producer().register({ topic: 'rpc' });
  const messagesData = toBinary(
    SendMessageBatchSchema,
    create(SendMessageBatchSchema, {
      messages: [
        { payload: bytes('p0'), partitionId: 0, sequence: 100n },
        { payload: bytes('p1'), partitionId: 1, key: bytes('k') },
        { payload: bytes('p0 again'), partitionId: 0, sequence: 100n },
      ],
    }),
  );
  const sent = await producer().send({ topic: 'rpc', producerId, messagesData });
  expect(sent.results).toEqual([]);
  expect(sent.partitionIds).toEqual([0, 1, 0]);
  expect(sent.offsets[0]).toBe(sent.offsets[2]);
  expect(sent.offsets[1]! >= 0n).toBe(true);
  expect(sent.duplicateIndexes).toEqual([2]);

  const appends = cluster.state.appendRequests.length;
  for (const malformed of [messagesData.subarray(0, messagesData.length - 1), new Uint8Array([0x0a, 0x02, 0x20, 0x80])]) {
    expect(await codeOf(producer().send({ topic: 'rpc', producerId, messagesData: malformed }))).toBe('INVALID_ARGUMENT');
  }
  expect(cluster.state.appendRequests.length).toBe(appends);
});

test('ProducerService: previous_sequence goes on to the broker; a SEQUENCE_GAP is tried again a few times, then goes back to the client; a bad one writes nothing', async () => {
  const { producerId } = await producer().register({ topic: 'rpc' });
  const topicId = cluster.state.topicByName('rpc')!.id;
  const owner = cluster.brokers.find((b) => b.broker.id === cluster.state.partition(topicId, 0).brokerId)!;
  const messagesData = toBinary(
    SendMessageBatchSchema,
    create(SendMessageBatchSchema, { messages: [{ payload: bytes('chained'), partitionId: 0, sequence: 201n, previousSequence: 200n }, { payload: bytes('next'), partitionId: 0, sequence: 202n }] }),
  );
  await producer().send({ topic: 'rpc', producerId, messagesData });
  expect(owner.appends.at(-1)!.records.map((r) => r.previousSequence)).toEqual([200n, undefined]);

  // The predecessor arrives a moment later (it came by another call): the gateway waits for it.
  owner.failNext('SEQUENCE_GAP', 2);
  let attempts = owner.appends.length;
  await producer().send({ topic: 'rpc', producerId, messages: [{ payload: bytes('a moment early'), partitionId: 0, sequence: 211n, previousSequence: 210n }] });
  expect(owner.appends.length - attempts).toBe(3);
  // It never comes: after six short waits (~31 ms) the client hears of it, and decides.
  owner.failNext('SEQUENCE_GAP', 100);
  attempts = owner.appends.length;
  expect(await codeOf(producer().send({ topic: 'rpc', producerId, messages: [{ payload: bytes('early'), partitionId: 0, sequence: 301n, previousSequence: 300n }] }))).toBe(
    'SEQUENCE_GAP',
  );
  expect(owner.appends.length - attempts).toBe(7);
  owner.clearFailures();

  const appends = cluster.state.appendRequests.length;
  expect(await codeOf(producer().send({ topic: 'rpc', producerId, messages: [{ payload: bytes('bad'), partitionId: 0, sequence: 5n, previousSequence: -1n }] }))).toBe('INVALID_ARGUMENT');
  expect(await codeOf(producer().send({ topic: 'rpc', producerId, messages: [{ payload: bytes('bad'), partitionId: 0, previousSequence: 4n }] }))).toBe('INVALID_ARGUMENT');
  expect(cluster.state.appendRequests.length).toBe(appends);
});

test('a sequence or previous sequence beyond 2^53 - 1 is refused as INVALID_ARGUMENT and writes nothing', async () => {
  await producer().createTopic({ name: 'rpc-sequences', partitions: 3 });
  const { producerId } = await producer().register({ topic: 'rpc-sequences' });
  const send = (message: { sequence: bigint; previousSequence?: bigint }) =>
    producer().send({ topic: 'rpc-sequences', producerId, messages: [{ payload: bytes('ok'), partitionId: 0, sequence: 1n }, { payload: bytes('far'), ...message }] });
  expect(await codeOf(send({ sequence: 2n ** 53n }))).toBe('INVALID_ARGUMENT');
  expect(await codeOf(send({ sequence: 2n ** 60n + 1n }))).toBe('INVALID_ARGUMENT');
  expect(await codeOf(send({ sequence: 10n, previousSequence: 2n ** 53n }))).toBe('INVALID_ARGUMENT');
  // Nothing of those sends was written: the first message of the next one still gets offset 0.
  const sent = await send({ sequence: 2n ** 53n - 1n });
  expect(sent.results.map((r) => [r.partitionId, r.offset])).toEqual([
    [0, 0n],
    [Number((2n ** 53n - 1n) % 3n), 0n],
  ]);
});
