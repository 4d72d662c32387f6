import type { ConsumedMessage } from '@partq/proto';
import { waitFor } from './support/wait-for.js';
import { TestCluster, type TestReplica } from './support/test-cluster.js';

// A broker from before Tail (it answers UNIMPLEMENTED, as during a rolling upgrade) and so from before
// records_data: consume streams fall back to long-poll Fetches for its partitions, do not keep asking
// for tails, and read the records its answers carry in `records`.
const HEARTBEAT_MS = 200;
const tag = (message: ConsumedMessage): string => `${message.partitionId}:${message.offset}`;

let cluster: TestCluster;
let replica: TestReplica;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokerTail: false, brokerRecordsData: false });
  replica = await cluster.startReplica({ PARTQ_REPLICA_STREAM_HEARTBEAT: `${HEARTBEAT_MS}ms` });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

it('delivers what is appended later through long-polls, without a busy loop', async () => {
  const topic = await cluster.createTopic('no-tail', 2);
  const consumer = await cluster.registerConsumer(topic);
  cluster.broker.append(topic.id, 0, ['a', 'b']);
  await cluster.synced(replica);

  const controller = new AbortController();
  const delivered: ConsumedMessage[] = [];
  const call = replica.client.consumeStream({ consumerId: consumer.id, topic: 'no-tail', maxMessages: 10, streamId: 'old-broker' }, { signal: controller.signal });
  const reading = (async () => {
    for await (const response of call) delivered.push(...response.messages);
  })().catch(() => undefined);
  try {
    await waitFor(() => delivered.length >= 2, 'the pending messages');
    // The first waits asked for tails (one per partition at most: the second may still be in flight when
    // the first refusal lands), were refused, and fell back to long-polls. Prefetches after the backlog
    // long-poll too, and may start before the first wait asks for a tail: either may come first.
    await waitFor(() => (cluster.broker.requests.get('Tail') ?? 0) >= 1 && cluster.broker.longPolls >= 2, 'a refused tail and the long-polls');
    const fetches = cluster.broker.fetchCalls;
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
    expect(cluster.broker.fetchCalls - fetches).toBeLessThanOrEqual(8); // a new pair per heartbeat at most
    cluster.broker.append(topic.id, 1, ['late']);
    await waitFor(() => delivered.length >= 3, 'the late message');
    expect(delivered.map(tag)).toEqual(['0:0', '0:1', '1:0']);
    expect(delivered.map((message) => Buffer.from(message.payload).toString())).toEqual(['a', 'b', 'late']);
    expect(cluster.broker.answersWithRecords).toEqual({ records: expect.any(Number), recordsData: 0 });
    expect(cluster.broker.answersWithRecords.records).toBeGreaterThanOrEqual(2);
    // Three heartbeats of waits and a late message later, no partition asked again.
    expect(cluster.broker.requests.get('Tail')).toBeLessThanOrEqual(2);
  } finally {
    controller.abort();
    await reading;
  }
});
