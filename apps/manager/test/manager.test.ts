import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Acks, ManagerService } from '@partq/proto';
import { decodeSequenceRuns, encodeSequenceRuns } from '@partq/partition';
import { createDatabase, createTestDatabase } from '@partq/schema';
import { fromConnectError } from '@partq/runtime';
import { loadManagerConfig, startManager, type RunningManager } from '../src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(60_000);

let database: { url: string; drop(): Promise<void> };
let manager: RunningManager;
let client: ReturnType<typeof createClient<typeof ManagerService>>;
/** The managers' data directories (their transaction logs), removed once the file is done. */
const dataDirs: string[] = [];

function dataDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dataDirs.push(dir);
  return dir;
}

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadManagerConfig({
    argv: ['--port', '0', '--log-level', 'silent', '--data-dir', dataDir('partq-manager-')],
    env: { DATABASE_URL: database.url },
  });
  manager = await startManager(config);
  await manager.active;
  client = createClient(ManagerService, createConnectTransport({ baseUrl: manager.url, httpVersion: '1.1' }));
});

afterAll(async () => {
  await manager?.stop();
  await database?.drop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return fromConnectError(error).code;
  }
  throw new Error('expected a failure');
}

test('creates topics with the default partition count, refuses duplicates and bad names', async () => {
  const created = await client.createTopic({ name: 'orders', partitions: 0, defaultAcks: Acks.UNSPECIFIED });
  expect(created.topic).toMatchObject({ name: 'orders', partitionCount: 3 });
  expect(created.partitions.map((p) => p.partitionId)).toEqual([0, 1, 2]);
  // No broker yet: nobody owns the partitions.
  expect(created.partitions.every((p) => p.brokerId === 0)).toBe(true);

  expect(await codeOf(client.createTopic({ name: 'orders', partitions: 1 }))).toBe('ALREADY_EXISTS');
  expect(await codeOf(client.createTopic({ name: 'bad name', partitions: 1 }))).toBe('INVALID_ARGUMENT');
  expect(await codeOf(client.createTopic({ name: 'x'.repeat(250), partitions: 1 }))).toBe('INVALID_ARGUMENT');
  expect(await codeOf(client.createTopic({ name: 'neg', partitions: -1 }))).toBe('INVALID_ARGUMENT');
  expect((await client.listTopics({})).topics.map((t) => t.name)).toEqual(['orders']);
});

test('registering a producer creates its topic; a bad partition is NOT_FOUND', async () => {
  const answer = await client.registerProducer({ topic: 'auto' });
  expect(answer.topicCreated).toBe(true);
  expect(answer.producer?.topicId).toBe(answer.topic?.id);
  expect(await codeOf(client.registerProducer({ topic: 'auto', partitionId: 9 }))).toBe('NOT_FOUND');
  expect(await codeOf(client.registerConsumer({ topic: 'missing' }))).toBe('NOT_FOUND');
});

test('a producer and a consumer are in the health table from the moment they register', async () => {
  const producer = (await client.registerProducer({ topic: 'watched' })).producer!;
  const consumer = (await client.registerConsumer({ topic: 'watched' })).consumer!;
  const { entries } = await client.getHealth({});
  const entryOf = (kind: string, id: number) => entries.find((e) => e.kind === kind && e.id === id);
  expect(entryOf('producer', producer.id)).toMatchObject({ status: 'active' });
  expect(entryOf('consumer', consumer.id)).toMatchObject({ status: 'active' });
  expect(Number(entryOf('consumer', consumer.id)!.lastSeenMs)).toBeGreaterThan(Date.now() - 60_000);
});

test('streams a snapshot, then changes', async () => {
  const abort = new AbortController();
  const stream = client.watchMetadata({ watcher: 'test' }, { signal: abort.signal })[Symbol.asyncIterator]();
  const first = await stream.next();
  expect(first.value.snapshot).toBe(true);
  expect(first.value.metadata.topics.map((t: { name: string }) => t.name)).toContain('orders');
  await client.createTopic({ name: 'later', partitions: 2 });
  const next = await stream.next();
  expect(next.value.snapshot).toBe(false);
  expect(next.value.version).toBeGreaterThan(first.value.version);
  expect(next.value.metadata.topics.map((t: { name: string }) => t.name)).toEqual(['later']);
  abort.abort();
  await stream.return?.();
});

test('a registering broker is given the partitions nobody owns, under a new epoch', async () => {
  const answer = await client.registerBroker({ address: 'http://127.0.0.1:1' });
  expect(answer.brokerId).toBeGreaterThan(0);
  expect(answer.assignments.length).toBeGreaterThanOrEqual(3);
  expect(answer.assignments.every((a) => a.epoch === 1)).toBe(true);
  const heartbeat = await client.brokerHeartbeat({ brokerId: answer.brokerId });
  expect(heartbeat.assignments.length).toBe(answer.assignments.length);
  // Both tell the broker the dead-broker timeout, which its stall fence must fit.
  expect(answer.brokerTimeoutMs).toBe(3000); // the default
  expect(heartbeat.brokerTimeoutMs).toBe(3000);
  expect(await codeOf(client.brokerHeartbeat({ brokerId: 424242 }))).toBe('NOT_FOUND');
});

test('GetProducerSequences answers runs to a caller that reads them, and a message per sequence to one that does not', async () => {
  const { topic } = await client.createTopic({ name: 'sequence-answers', partitions: 1 });
  // A committed row as a sync stores it: producer 9's sequences 100-104 at offsets 0-4, producer 8's 7 at 5.
  const runs = [
    { producerId: 9, firstSequence: 100, firstOffset: 0, count: 5 },
    { producerId: 8, firstSequence: 7, firstOffset: 5, count: 1 },
  ];
  const db = createDatabase(database.url);
  try {
    await db
      .insertInto('record_batches')
      .values({ topic_id: topic!.id, partition_id: 0, base_offset: 0, next_offset: 6, records: Buffer.alloc(0), sequences: encodeSequenceRuns(runs), last_timestamp_ms: 0 })
      .execute();
  } finally {
    await db.destroy();
  }
  const ask = { topicId: topic!.id, partitionId: 0, belowOffset: 6n, limit: 4 };

  const asRuns = await client.getProducerSequences({ ...ask, acceptRunsData: true });
  expect(asRuns.sequences).toEqual([]);
  expect(decodeSequenceRuns(asRuns.runsData)).toEqual([
    { producerId: 9, firstSequence: 102, firstOffset: 2, count: 3 },
    { producerId: 8, firstSequence: 7, firstOffset: 5, count: 1 },
  ]);
  const oneByOne = await client.getProducerSequences(ask);
  expect(oneByOne.runsData.byteLength).toBe(0);
  expect(oneByOne.sequences.map((s) => [s.producerId, Number(s.sequence), Number(s.offset)])).toEqual([
    [9, 102, 2],
    [9, 103, 3],
    [9, 104, 4],
    [8, 7, 5],
  ]);
});

test('ConnectError codes carry the partq code header', async () => {
  expect.assertions(2);
  try {
    await client.createTopic({ name: 'orders', partitions: 1 });
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.AlreadyExists);
  }
});

test('a manager that cannot reach the Central DB says so to its callers', async () => {
  // A port nothing listens on: taken, then given back.
  const closedPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
  const cutOff = await startManager(
    loadManagerConfig({
      argv: ['--port', '0', '--log-level', 'silent', '--data-dir', dataDir('partq-cut-off-')],
      env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/partq` },
    }),
  );
  const client = createClient(ManagerService, createConnectTransport({ baseUrl: cutOff.url, httpVersion: '1.1' }));
  try {
    // Its first try to take the lock fails at once; the answer names why no manager is active.
    let refused = fromConnectError(await client.listTopics({}).catch((error: unknown) => error));
    for (let i = 0; i < 250 && refused.message.includes('standby'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      refused = fromConnectError(await client.listTopics({}).catch((error: unknown) => error));
    }
    expect(refused.code).toBe('UNAVAILABLE');
    expect(refused.message).toBe(`this manager cannot reach the central database, so it cannot be the active one: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
  } finally {
    await cutOff.stop();
  }
});

test('a second manager waits as a standby, answers UNAVAILABLE, and takes over when the first stops', async () => {
  const standby = await startManager(
    loadManagerConfig({
      argv: ['--port', '0', '--log-level', 'silent', '--data-dir', dataDir('partq-standby-')],
      env: { DATABASE_URL: database.url },
    }),
  );
  const standbyClient = createClient(ManagerService, createConnectTransport({ baseUrl: standby.url, httpVersion: '1.1' }));
  try {
    const refused = await standbyClient.listTopics({}).catch((error: unknown) => fromConnectError(error));
    expect(refused).toMatchObject({ code: 'UNAVAILABLE', message: 'this manager is a standby; ask the active one' });
    const stopped = Date.now();
    await manager.stop();
    await standby.active;
    process.stdout.write(`standby manager took over ${Date.now() - stopped} ms after the active one stopped\n`);
    expect((await standbyClient.listTopics({})).topics.map((t) => t.name)).toContain('orders');
  } finally {
    await standby.stop();
    manager = { url: '', active: Promise.resolve(), stop: async () => undefined };
  }
});
