import { ManagerService } from '@partq/proto';
import { Mutex, createLogger, createMetricsRegistry, startServiceServer, wrapServiceImpl } from '@partq/runtime';
import { createDatabase, migrateToLatest } from '@partq/schema';
import { Counter, Gauge, Histogram } from 'prom-client';
import { PartitionAssigner } from './assignment/partition-assigner.js';
import { PartitionMover } from './assignment/partition-mover.js';
import type { ManagerConfig } from './config.js';
import { BrokerClients } from './membership/broker-clients.js';
import { BrokerRegistry } from './membership/broker-registry.js';
import { ReplicaRegistry } from './membership/replica-registry.js';
import { createManagerService } from './service/manager-service.js';
import { ClusterState } from './state/cluster-state.js';

import { MessageStore } from './store/message-store.js';
import { MetadataStore } from './store/metadata-store.js';
import { BrokerSync } from './sync/broker-sync.js';
import { recoverLogs } from './txlog/recover-logs.js';
import { TransactionLog } from './txlog/transaction-log.js';
import { join } from 'node:path';

export interface RunningManager {
  url: string;
  stop(): Promise<void>;
}

/** Wires the manager together: Central DB, in-memory state, membership, log sync, Connect service. */
export async function startManager(config: ManagerConfig): Promise<RunningManager> {
  const logger = createLogger({ role: 'manager', instanceId: 'manager', level: config.logLevel });
  const registry = createMetricsRegistry('manager');
  const db = createDatabase(config.databaseUrl, { applicationName: 'partq-manager' });
  await migrateToLatest(db);

  const txlog = await TransactionLog.open(join(config.dataDir, 'txlog'), logger);
  const replayed = await recoverLogs(db, txlog, logger);
  if (replayed > 0) logger.warn({ replayed }, 'transaction log replayed');

  const state = new ClusterState();
  const store = new MetadataStore(db);
  const loaded = await store.loadAll();
  state.apply(loaded);
  logger.info({ topics: loaded.topics.length, brokers: loaded.brokers.length }, 'metadata loaded');

  const lock = new Mutex();
  const brokers = new BrokerClients(state);
  const assigner = new PartitionAssigner(state, store, brokers, lock, txlog, logger);
  const messages = new MessageStore(db);
  const sync = new BrokerSync(state, brokers, messages, lock, txlog, logger, {
    intervalMs: config.syncInterval,
    threshold: config.syncThreshold,
    maxRecords: config.syncMaxRecords,
    metrics: {
      committedRecords: new Counter({ name: 'partq_manager_synced_records_total', help: 'Broker records committed to PostgreSQL', registers: [registry] }),
      batchSize: new Histogram({
        name: 'partq_manager_sync_batch_records',
        help: 'Records per sync transaction',
        buckets: [1, 10, 100, 1000, 5000, 20000],
        registers: [registry],
      }),
      syncSeconds: new Histogram({ name: 'partq_manager_sync_commit_seconds', help: 'Duration of a sync transaction', registers: [registry] }),
    },
  });
  const mover = new PartitionMover(state, store, assigner, brokers, lock, txlog, logger);
  const brokerRegistry = new BrokerRegistry(state, store, assigner, logger, {
    brokerTimeoutMs: config.brokerTimeout,
    onAlive: (broker) => sync.ensure(broker.id),
    // A broker that joins takes its share of the partitions (moved without loss).
    onJoined: config.autoRebalance
      ? () =>
          void mover.rebalance().then(
            (report) => report.moved.length > 0 && logger.info({ moved: report.moved.length, failed: report.failed.length }, 'rebalanced after a broker joined'),
            (error: unknown) => logger.warn({ err: error }, 'rebalance after a broker joined failed'),
          )
      : undefined,
  });
  const replicaRegistry = new ReplicaRegistry(state, logger, config.brokerTimeout);
  new Gauge({
    name: 'partq_manager_brokers',
    help: 'Brokers by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const broker of state.brokers.values()) this.inc({ state: broker.state });
    },
  });

  const service = createManagerService({
    state,
    store,
    assigner,
    mover,
    messages,
    brokerRegistry,
    replicaRegistry,
    brokers,
    lock,
    txlog,
    logger,
    heartbeatIntervalMs: config.heartbeatInterval,
    defaultPartitions: config.defaultPartitions,
  });
  const server = await startServiceServer({
    host: config.host,
    port: config.port,
    logger,
    registry,
    routes: (router) => router.service(ManagerService, wrapServiceImpl(service)),
    ready: async () => {
      await db.selectFrom('topics').select('id').limit(1).execute();
      return true;
    },
  });
  brokerRegistry.start();
  replicaRegistry.start();
  await assigner.reassignOrphans().catch((error: unknown) => logger.warn({ err: error }, 'initial reassignment failed'));
  logger.info({ url: server.url }, 'manager ready');

  return {
    url: config.advertisedUrl ?? server.url,
    async stop() {
      brokerRegistry.stop();
      replicaRegistry.stop();
      sync.stopAll();
      state.closeWatchers();
      await server.close();
      await db.destroy();
      await txlog.close();
      logger.info('manager stopped');
    },
  };
}
