import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import {
  BrokerService,
  decodePartitionOffsets,
  encodeGetUpdatesResponse,
  encodeRecords,
  ManagerService,
  type GetUpdatesRequest,
  type PartitionOffsetEntry,
  type PartitionUpdate,
} from '@partq/proto';
import { createTestDatabase } from '@partq/schema';
import { createLogger, createMetricsRegistry, PartqError, sleep, startServiceServer, withWireBytes, wrapServiceImpl } from '@partq/runtime';
import { loadManagerConfig, startManager, type RunningManager } from '../src/index.js';

jest.setTimeout(60_000);

/**
 * A broker's GetUpdates, and nothing else of it, served over real Connect: it plays a broker of
 * either version (one that reads from_data and says so, or an older one that reads only `from`),
 * which one broker build cannot. It answers each round after a short wait, with the records a test
 * hands it once.
 */
class SyncedBroker {
  readonly requests: GetUpdatesRequest[] = [];
  readsFromData = false;
  failNext = false;
  private pending: PartitionUpdate[] = [];

  private constructor(
    readonly url: string,
    readonly close: () => Promise<void>,
  ) {}

  static async start(): Promise<SyncedBroker> {
    let broker: SyncedBroker | undefined;
    const server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ role: 'synced-broker', instanceId: 'test', level: 'silent' }),
      registry: createMetricsRegistry('synced-broker'),
      routes: (router) => router.service(BrokerService, wrapServiceImpl({ getUpdates: (request: GetUpdatesRequest) => broker!.getUpdates(request) })),
    });
    broker = new SyncedBroker(server.url, () => server.close());
    return broker;
  }

  /** Records the next round answers with. */
  answerOnce(updates: PartitionUpdate[]): void {
    this.pending = updates;
  }

  /** What the request named: from `from` for an older broker, else from from_data. */
  named(request: GetUpdatesRequest): PartitionOffsetEntry[] {
    if (!this.readsFromData || request.fromData.byteLength === 0) {
      return request.from.map((p) => ({ topicId: p.topicId, partitionId: p.partitionId, offset: Number(p.offset) }));
    }
    return decodePartitionOffsets(request.fromData);
  }

  private async getUpdates(request: GetUpdatesRequest) {
    this.requests.push(request);
    await sleep(10);
    if (this.failNext) {
      this.failNext = false;
      throw new PartqError('UNAVAILABLE', 'the broker is restarting');
    }
    const { bytes, response } = encodeGetUpdatesResponse(this.pending, this.readsFromData);
    this.pending = [];
    return withWireBytes(response, bytes);
  }
}

let database: { url: string; drop(): Promise<void> };
let manager: RunningManager;
let broker: SyncedBroker;
let heartbeats: NodeJS.Timeout | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'partq-broker-sync-'));

beforeAll(async () => {
  database = await createTestDatabase();
  manager = await startManager(
    loadManagerConfig({ argv: ['--port', '0', '--log-level', 'silent', '--data-dir', dataDir, '--sync-interval', '50ms'], env: { DATABASE_URL: database.url } }),
  );
  await manager.active;
  broker = await SyncedBroker.start();
});

afterAll(async () => {
  clearInterval(heartbeats);
  await manager?.stop();
  await broker?.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Waits for the manager's next GetUpdates sent after this call, and returns it. */
async function nextRequest(): Promise<GetUpdatesRequest> {
  const seen = broker.requests.length;
  for (let i = 0; i < 500 && broker.requests.length <= seen + 1; i++) await sleep(10);
  // The one in flight when called may have been built before; the one after it was not.
  const request = broker.requests[seen + 1];
  if (!request) throw new Error('the manager sent no GetUpdates');
  return request;
}

test('names partitions by `from` until the broker says it reads from_data, then by from_data alone, and commits what it answers', async () => {
  const client = createClient(ManagerService, createConnectTransport({ baseUrl: manager.url, httpVersion: '1.1' }));
  const topic = (await client.createTopic({ name: 'synced', partitions: 2 })).topic!;
  const { brokerId, assignments } = await client.registerBroker({ address: broker.url });
  heartbeats = setInterval(() => void client.brokerHeartbeat({ brokerId }).catch(() => undefined), 300);
  const atStart = [0, 1].map((partitionId) => ({ topicId: topic.id, partitionId, offset: 0 }));

  // An older broker: every round carries `from`, and from_data beside it.
  const older = await nextRequest();
  expect(older.from.map((p) => [p.topicId, p.partitionId, Number(p.offset)])).toEqual(atStart.map((p) => [p.topicId, p.partitionId, p.offset]));
  expect(decodePartitionOffsets(older.fromData)).toEqual(atStart);
  expect(broker.named(await nextRequest())).toEqual(atStart);

  // A broker that reads from_data: once it said so, `from` is left out.
  broker.readsFromData = true;
  await nextRequest();
  const packed = await nextRequest();
  expect(packed.from).toEqual([]);
  expect(decodePartitionOffsets(packed.fromData)).toEqual(atStart);

  // Records it answers are committed, and the next rounds' from_data carry the new high watermark.
  const { epoch } = assignments.find((a) => a.topicId === topic.id && a.partitionId === 1)!;
  broker.answerOnce([{ topicId: topic.id, partitionId: 1, epoch, records: encodeRecords([{ payload: Buffer.from('a'), producerId: 0 }, { payload: Buffer.from('b'), producerId: 0 }], 0, Date.now()) }]);
  let committed: PartitionOffsetEntry[] = [];
  for (let i = 0; i < 50 && committed[1]?.offset !== 2; i++) committed = broker.named(await nextRequest());
  expect(committed).toEqual([atStart[0], { topicId: topic.id, partitionId: 1, offset: 2 }]);
  expect(broker.requests.at(-1)!.from).toEqual([]);

  // A failed round (the broker may come back as another version): both again, until it says so anew.
  broker.readsFromData = false;
  broker.failNext = true;
  let again = await nextRequest();
  for (let i = 0; i < 50 && again.from.length === 0; i++) again = await nextRequest();
  expect(again.from.map((p) => Number(p.offset))).toEqual([0, 2]);
  expect(decodePartitionOffsets(again.fromData).map((p) => p.offset)).toEqual([0, 2]);
});
