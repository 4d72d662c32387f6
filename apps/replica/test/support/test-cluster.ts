import { create } from '@bufbuild/protobuf';
import type { Client, ConnectRouter } from '@connectrpc/connect';
import {
  BrokerSchema,
  BrokerService,
  BrokerState,
  ConsumerSchema,
  ManagerService,
  PartitionSchema,
  ReplicaService,
  TopicSchema,
  type Consumer,
  type Partition,
  type Topic,
} from '@partq/proto';
import {
  closeRpcTransports,
  createLogger,
  createMetricsRegistry,
  createRpcClient,
  loadConfig,
  startServiceServer,
  wrapServiceImpl,
  type ServiceServer,
  type ServiceServerOptions,
} from '@partq/runtime';
import { createDatabase, createTestDatabase, migrateToLatest, type Database, type TestDatabase } from '@partq/schema';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import { replicaConfigSpec } from '../../src/config.js';
import { startReplica, type RunningReplica } from '../../src/start-replica.js';
import { FakeBroker } from './fake-broker.js';
import { FakeManager } from './fake-manager.js';
import { waitFor } from './wait-for.js';
import { recordBatchRow } from './record-batch-row.js';

export const BROKER_ID = 1;
const silent = createLogger({ role: 'test', instanceId: 'test', level: (process.env['TEST_LOG_LEVEL'] as 'debug' | undefined) ?? 'silent' });

export interface TestReplica extends RunningReplica {
  client: Client<typeof ReplicaService>;
  registry: Registry;
}

/**
 * A real PostgreSQL database (migrated), a fake manager and a fake broker on real ports, and
 * replicas started with `startReplica` against them. Topics and consumers are written to the
 * database the way the manager would, and announced on the metadata stream.
 */
export class TestCluster {
  private readonly replicas: TestReplica[] = [];

  private constructor(
    readonly database: TestDatabase,
    readonly db: Kysely<Database>,
    readonly manager: FakeManager,
    readonly broker: FakeBroker,
    private readonly managerServer: ServiceServer,
    private readonly brokerServer: ServiceServer,
  ) {}

  /**
   * `brokerTail: false`: the fake broker answers Tail with UNIMPLEMENTED, as a broker from before it.
   * `brokerRecordsData: false`: it answers Fetch and Tail with `records` only, as a broker from before records_data.
   */
  static async start(options: { brokerTail?: boolean; brokerRecordsData?: boolean } = {}): Promise<TestCluster> {
    const database = await createTestDatabase();
    const db = createDatabase(database.url);
    await migrateToLatest(db);
    const manager = new FakeManager();
    const broker = new FakeBroker({ tail: options.brokerTail ?? true, recordsData: options.brokerRecordsData ?? true });
    const managerServer = await serve((router) => router.service(ManagerService, wrapServiceImpl(manager.impl)));
    const brokerServer = await serve(
      (router) => router.service(BrokerService, wrapServiceImpl(broker.impl)),
      // Every request the broker gets, by method, answered or not (an unimplemented Tail too).
      (app) => {
        app.addHook('onRequest', async (request) => broker.noteRequest(request.url.slice(request.url.lastIndexOf('/') + 1)));
      },
    );
    manager.publish({ brokers: [create(BrokerSchema, { id: BROKER_ID, address: brokerServer.url, state: BrokerState.ALIVE })] });
    return new TestCluster(database, db, manager, broker, managerServer, brokerServer);
  }

  /** Starts a replica of this cluster. */
  async startReplica(env: Record<string, string> = {}): Promise<TestReplica> {
    const config = loadConfig(replicaConfigSpec, {
      argv: [],
      env: { DATABASE_URL: this.database.url, PARTQ_MANAGER_URL: this.managerServer.url, PARTQ_LOG_LEVEL: 'silent', ...env },
    });
    const registry = createMetricsRegistry('replica');
    const running = await startReplica(config, { logger: silent, registry });
    const replica: TestReplica = { ...running, registry, client: createRpcClient(ReplicaService, running.url) };
    this.replicas.push(replica);
    return replica;
  }

  /** A topic whose partitions all live on the fake broker. */
  async createTopic(name: string, partitionCount: number): Promise<Topic> {
    const row = await this.db.insertInto('topics').values({ name, partition_count: partitionCount }).returning('id').executeTakeFirstOrThrow();
    await this.db
      .insertInto('partitions')
      .values(Array.from({ length: partitionCount }, (_, p) => ({ topic_id: row.id, partition_id: p, epoch: 1 })))
      .execute();
    const topic = create(TopicSchema, { id: row.id, name, partitionCount });
    const partitions = Array.from({ length: partitionCount }, (_, p) =>
      create(PartitionSchema, { topicId: row.id, partitionId: p, brokerId: BROKER_ID, epoch: 1 }),
    );
    this.manager.publish({ topics: [topic], partitions });
    return topic;
  }

  /** Announces a changed partition (new owner, high watermark, log start) on the metadata stream. */
  updatePartition(topic: Topic, partitionId: number, change: Partial<Pick<Partition, 'brokerId' | 'epoch' | 'logStartOffset' | 'highWatermark'>>): void {
    const known = this.manager.partitions.get(`${topic.id}/${partitionId}`);
    if (!known) throw new Error(`no partition ${topic.name}/${partitionId}`);
    this.manager.publish({ partitions: [{ ...known, ...change }] });
  }

  /**
   * The metadata moves the partition (at epoch 1 until then) to epoch 2 while the fake broker still
   * holds `held` of epoch 1 past the high watermark: a broker that hears of the move after the
   * replica, and has not cut its log back yet. `broker.startAt(…, 2)` settles it.
   */
  moveAheadOfItsOwner(topic: Topic, partitionId: number, held: string[]): void {
    this.broker.settle(topic.id, partitionId, 1);
    this.broker.append(topic.id, partitionId, held);
    this.updatePartition(topic, partitionId, { epoch: 2 });
  }

  /** Announces the fake broker's state (DEAD: partitions are read from PostgreSQL up to the high watermark). */
  setBrokerState(state: BrokerState): void {
    this.manager.publish({ brokers: [create(BrokerSchema, { id: BROKER_ID, address: this.brokerServer.url, state })] });
  }

  /**
   * Registers a consumer as the manager does: the consumers row and its positions (the end of each
   * partition, or `positions`) in one transaction. `announce: false` leaves it out of the stream.
   */
  async registerConsumer(topic: Topic, options: { partitionId?: number; positions?: number[]; announce?: boolean } = {}): Promise<Consumer> {
    const partitionIds = options.partitionId === undefined ? Array.from({ length: topic.partitionCount }, (_, p) => p) : [options.partitionId];
    const id = await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('consumers')
        .values({ topic_id: topic.id, partition_id: options.partitionId ?? null })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('consumer_positions')
        .values(
          partitionIds.map((p, i) => ({
            consumer_id: row.id,
            topic_id: topic.id,
            partition_id: p,
            next_offset: options.positions?.[i] ?? this.broker.endOffset(topic.id, p),
          })),
        )
        .execute();
      return row.id;
    });
    const consumer = create(ConsumerSchema, { id, topicId: topic.id, ...(options.partitionId === undefined ? {} : { partitionId: options.partitionId }) });
    if (options.announce === false) this.manager.addQuietly({ consumers: [consumer] });
    else this.manager.publish({ consumers: [consumer] });
    return consumer;
  }

  /** Commits records to the record_batches table, as one run, as the manager's sync does. */
  async commitMessages(topic: Topic, partitionId: number, from: number, payloads: string[]): Promise<void> {
    await this.db
      .insertInto('record_batches')
      .values(recordBatchRow(topic.id, partitionId, from, payloads.map((payload) => ({ payload }))))
      .execute();
  }

  async position(consumerId: number, partitionId: number): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('consumer_positions')
      .select('next_offset')
      .where('consumer_id', '=', consumerId)
      .where('partition_id', '=', partitionId)
      .executeTakeFirst();
    return row?.next_offset;
  }

  /** Resolves once the replica's metadata view has every change published so far. */
  async synced(replica: TestReplica): Promise<void> {
    const reached = await replica.view.waitForVersion(this.manager.currentVersion, 10_000);
    if (!reached) throw new Error('the replica did not catch up with the metadata stream');
  }

  async stopReplica(replica: TestReplica): Promise<void> {
    await replica.stop();
    closeRpcTransports(replica.url);
    this.replicas.splice(this.replicas.indexOf(replica), 1);
    // Its metadata stream must be gone before the next change is published, or the fake would write
    // to a closed connection.
    await waitFor(() => this.manager.openWatches <= this.replicas.length, 'the metadata stream to close');
  }

  async stop(): Promise<void> {
    for (const replica of [...this.replicas]) await this.stopReplica(replica);
    await this.managerServer.close();
    await this.brokerServer.close();
    closeRpcTransports();
    await this.db.destroy();
    await this.database.drop();
  }
}

/** Serves Connect routes on a free port, as the roles do. */
export function serve(routes: (router: ConnectRouter) => void, configure?: ServiceServerOptions['configure']): Promise<ServiceServer> {
  return startServiceServer({ host: '127.0.0.1', port: 0, logger: silent, registry: createMetricsRegistry('fake'), shutdownTimeoutMs: 200, routes, ...(configure ? { configure } : {}) });
}
