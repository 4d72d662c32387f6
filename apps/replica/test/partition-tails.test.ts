import { create } from '@bufbuild/protobuf';
import { BrokerService, PartitionSchema, type Partition } from '@partq/proto';
import { wrapServiceImpl, type ServiceServer } from '@partq/runtime';
import { RpcBrokerClientPool } from '../src/fetch/broker-client-pool.js';
import { PartitionTails, type PartitionTailsOptions } from '../src/fetch/partition-tails.js';
import { ReadAheadCache } from '../src/fetch/read-ahead-cache.js';
import { RecordWaiter } from '../src/fetch/record-waiter.js';
import { WaitRound } from '../src/fetch/wait-round.js';
import { WalStarts } from '../src/fetch/wal-starts.js';
import { FakeBroker } from './support/fake-broker.js';
import { serve } from './support/test-cluster.js';
import { waitFor } from './support/wait-for.js';

// PartitionTails over Connect against the fake broker's Tail: what a wait resolves to, what goes in
// the cache, and when a tail is opened, moved and closed.
const silent = { debug: () => undefined };
const TOPIC = 1;
/** A round that never ends. */
const never = new WaitRound();

let broker: FakeBroker;
let server: ServiceServer;
let pool: RpcBrokerClientPool;
let cache: ReadAheadCache;
let walStarts: WalStarts;
let tails: PartitionTails;

function partitionOn(epoch = 1, partitionId = 0): Partition {
  return create(PartitionSchema, { topicId: TOPIC, partitionId, brokerId: 1, epoch });
}

function startTails(options: Partial<PartitionTailsOptions> = {}): PartitionTails {
  const fallback = new RecordWaiter({ brokers: pool, cache, walStarts, readAhead: 100, logger: silent });
  tails = new PartitionTails({ brokers: pool, cache, walStarts, readAhead: 100, fallback, logger: silent, ...options });
  return tails;
}

beforeEach(async () => {
  broker = new FakeBroker();
  server = await serve((router) => router.service(BrokerService, wrapServiceImpl(broker.impl)));
  pool = new RpcBrokerClientPool();
  cache = new ReadAheadCache(1 << 20);
  walStarts = new WalStarts();
});

afterEach(async () => {
  tails?.close();
  pool.close();
  await server.close();
});

const cachedOffsets = (partition: Partition, from: number): number[] => (cache.get(`${TOPIC}/${partition.partitionId}`, partition.epoch, from, 100) ?? []).map((r) => r.offset);

it('opens one tail for the waiters at a partition head, and wakes them with the pushed records in the cache', async () => {
  startTails();
  const partition = partitionOn();
  broker.append(TOPIC, 0, ['a', 'b']);
  const first = tails.wait(partition, server.url, 2, 10_000, never);
  const second = tails.wait(partition, server.url, 2, 10_000, never);
  await waitFor(() => broker.openTails === 1, 'the tail');
  broker.append(TOPIC, 0, ['c', 'd']);
  expect(await first).toBe('cached');
  expect(await second).toBe('cached');
  expect(cachedOffsets(partition, 2)).toEqual([2, 3]);
  expect(broker.tailCalls).toBe(1);
  expect(broker.fetchCalls).toBe(0);

  // Later records extend the cached run; a waiter behind the head is answered at once.
  const next = tails.wait(partition, server.url, 4, 10_000, never);
  broker.append(TOPIC, 0, ['e']);
  expect(await next).toBe('cached');
  expect(cachedOffsets(partition, 2)).toEqual([2, 3, 4]);
  expect(await tails.wait(partition, server.url, 3, 10_000, never)).toBe('cached');
  // Behind the tail's start: not pushed, not cached, so read at the source.
  expect(await tails.wait(partition, server.url, 0, 10_000, never)).toBe('at-source');
  expect(broker.tailCalls).toBe(1);
});

it('gives a waiter up when its round ends or its wait runs out, and keeps the tail for the next', async () => {
  startTails();
  const partition = partitionOn();
  const round = new WaitRound();
  const aborted = tails.wait(partition, server.url, 0, 10_000, round);
  round.end();
  expect(await aborted).toBe('idle');
  expect(await tails.wait(partition, server.url, 0, 50, never)).toBe('idle');
  expect(tails.open).toBe(1);
  const waiting = tails.wait(partition, server.url, 0, 10_000, never);
  broker.append(TOPIC, 0, ['a']);
  expect(await waiting).toBe('cached');
  expect(broker.tailCalls).toBe(1);
});

it('closes a tail nobody waited at for idleMs, and opens a new one at the next wait', async () => {
  startTails({ idleMs: 100 });
  const partition = partitionOn();
  expect(await tails.wait(partition, server.url, 0, 20, never)).toBe('idle');
  await waitFor(() => broker.tailCalls === 1, 'the tail');
  await waitFor(() => tails.open === 0 && broker.openTails === 0, 'the idle tail closed');
  const waiting = tails.wait(partition, server.url, 0, 10_000, never);
  await waitFor(() => broker.openTails === 1, 'a new tail');
  broker.append(TOPIC, 0, ['a']);
  expect(await waiting).toBe('cached');
  expect(broker.tailCalls).toBe(2);
});

it('ends the tail of an old epoch when a wait comes under the new one; its waiters look again', async () => {
  startTails();
  const old = tails.wait(partitionOn(1), server.url, 0, 10_000, never);
  await waitFor(() => broker.openTails === 1, 'the tail');
  const current = tails.wait(partitionOn(2), server.url, 0, 10_000, never);
  expect(await old).toBe('unavailable');
  await waitFor(() => broker.tailCalls === 2 && broker.openTails === 1, 'the new tail alone');
  broker.append(TOPIC, 0, ['a']);
  expect(await current).toBe('cached');
  expect(cachedOffsets(partitionOn(2), 0)).toEqual([0]);
});

it('sends a waiter below the WAL start to PostgreSQL, and one whose broker fails to look again later', async () => {
  startTails();
  broker.append(TOPIC, 0, ['a', 'b', 'c']);
  broker.trimBelow(TOPIC, 0, 3);
  expect(await tails.wait(partitionOn(1, 0), server.url, 1, 10_000, never)).toBe('at-source');
  // The broker said where its WAL starts: below it nothing more is asked of it.
  const asked = broker.tailCalls + broker.fetchCalls;
  expect(await tails.wait(partitionOn(1, 0), server.url, 2, 10_000, never)).toBe('at-source');
  expect(broker.tailCalls + broker.fetchCalls).toBe(asked);
  // Under a new epoch (another owner's WAL) it is asked again.
  expect(await tails.wait(partitionOn(2, 0), server.url, 2, 10_000, never)).toBe('at-source');
  expect(broker.tailCalls).toBe(asked + 1);

  const failing = tails.wait(partitionOn(1, 1), server.url, 0, 10_000, never);
  await waitFor(() => broker.openTails === 1, 'the tail');
  broker.failWith = 'UNAVAILABLE';
  expect(await failing).toBe('unavailable');
  expect(tails.open).toBe(0);
});

it('gives up a tail its broker went silent on, so its waiters look again', async () => {
  startTails({ silenceMs: 150 });
  const started = Date.now();
  expect(await tails.wait(partitionOn(), server.url, 0, 10_000, never)).toBe('unavailable');
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  await waitFor(() => broker.openTails === 0, 'the stream cancelled');
});

it('closes a tail that pushed more than maxAhead records past the last wait at its head (its consumers fell behind)', async () => {
  startTails({ maxAhead: 5 });
  const partition = partitionOn();
  const waiting = tails.wait(partition, server.url, 0, 10_000, never);
  await waitFor(() => broker.openTails === 1, 'the tail');
  broker.append(TOPIC, 0, ['a', 'b']);
  expect(await waiting).toBe('cached');
  // Nobody waits at the head any more while records keep coming.
  broker.append(TOPIC, 0, ['c', 'd', 'e']);
  await waitFor(() => cachedOffsets(partition, 0).length === 5, 'the records in the cache');
  expect(tails.open).toBe(1);
  broker.append(TOPIC, 0, ['f']);
  await waitFor(() => tails.open === 0 && broker.openTails === 0, 'the tail closed');
  // A wait at the head opens a new one from there.
  const again = tails.wait(partition, server.url, 6, 10_000, never);
  broker.append(TOPIC, 0, ['g']);
  expect(await again).toBe('cached');
  expect(broker.tailCalls).toBe(2);
});

it('a tail opened behind the head gives one read-ahead, as a Fetch would, and closes; one at the head stays', async () => {
  const fallback = new RecordWaiter({ brokers: pool, cache, walStarts, readAhead: 2, logger: silent });
  tails = new PartitionTails({ brokers: pool, cache, walStarts, readAhead: 2, fallback, logger: silent });
  const partition = partitionOn();
  broker.append(TOPIC, 0, ['a', 'b', 'c', 'd', 'e', 'f']);
  expect(await tails.wait(partition, server.url, 0, 10_000, never)).toBe('cached');
  expect(cachedOffsets(partition, 0)).toEqual([0, 1]);
  await waitFor(() => tails.open === 0 && broker.openTails === 0, 'the tail closed');
  // At the head, it stays open for what comes.
  const waiting = tails.wait(partition, server.url, 6, 10_000, never);
  broker.append(TOPIC, 0, ['g']);
  expect(await waiting).toBe('cached');
  expect(tails.open).toBe(1);
  expect(broker.tailCalls).toBe(2);
});
