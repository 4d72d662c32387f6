import { ManagerService } from '@partq/proto';
import type { ServiceImpl } from '@connectrpc/connect';
import { LeanHistogram, Mutex, PartqError, createLogger, createMetricsRegistry, describePostgresFailure, startServiceServer, wrapServiceImpl, type Logger } from '@partq/runtime';
import type { Registry } from 'prom-client';
import { acquireLeadership, type Leadership, type StandbyReason } from './leadership/leadership.js';
import { createPool, databaseOn, migrateToLatest } from '@partq/schema';
import { Counter, Gauge } from 'prom-client';
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
import { RetentionTask } from './retention/retention-task.js';
import { ClientExpiry } from './membership/client-expiry.js';
import { BrokerSync } from './sync/broker-sync.js';
import { recoverLogs } from './txlog/recover-logs.js';
import { TransactionLog } from './txlog/transaction-log.js';
import { join } from 'node:path';

export interface RunningManager {
  url: string;
  /** Resolves when this manager became the active one (at once when no other is). */
  active: Promise<void>;
  stop(): Promise<void>;
}

interface ActiveManager {
  service: ServiceImpl<typeof ManagerService>;
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Starts a manager: it listens at once, then waits for the managers' PostgreSQL lock (a standby
 * answers UNAVAILABLE, so clients with a list of manager URLs move on) and, once it holds it,
 * loads the cluster and takes over.
 */
export async function startManager(config: ManagerConfig): Promise<RunningManager> {
  const logger = createLogger({ role: 'manager', instanceId: `manager-${process.pid}`, level: config.logLevel });
  const registry = createMetricsRegistry('manager');
  let active: ActiveManager | undefined;
  let waiting: StandbyReason = { kind: 'another-manager-active' };
  const standby = (): never => {
    if (waiting.kind === 'database-unreachable') {
      // With one manager, or all of them cut off from the Central DB, no manager is active at all.
      const { message } = waiting.error as { message?: unknown };
      const why = describePostgresFailure(waiting.error) ?? (typeof message === 'string' ? message : String(waiting.error));
      throw new PartqError('UNAVAILABLE', `this manager cannot reach the central database, so it cannot be the active one: ${why}`);
    }
    throw new PartqError('UNAVAILABLE', 'this manager is a standby; ask the active one');
  };
  // Every method of ManagerService, forwarded to the active manager once this one is.
  type Handler = (request: unknown, context: unknown) => unknown;
  const service = Object.fromEntries(
    ManagerService.methods.map((method) => [
      method.localName,
      (request: unknown, context: unknown) => {
        const impl = active?.service as Record<string, Handler> | undefined;
        return impl ? impl[method.localName]!(request, context) : standby();
      },
    ]),
  ) as unknown as ServiceImpl<typeof ManagerService>;
  const server = await startServiceServer({
    host: config.host,
    port: config.port,
    logger,
    registry,
    routes: (router) => router.service(ManagerService, wrapServiceImpl(service)),
    ready: () => active?.ready() ?? false,
  });

  const abort = new AbortController();
  let leadership: Leadership | undefined;
  const activation = (async () => {
    const startedWaiting = Date.now();
    leadership = await acquireLeadership({
      databaseUrl: config.databaseUrl,
      logger,
      signal: abort.signal,
      onWaiting: (reason) => {
        waiting = reason;
      },
      onLost: (error) => {
        // Another manager may take over now: acting on would mean two active managers.
        logger.fatal({ err: error }, 'lost the manager lock; exiting');
        process.exit(70);
      },
    });
    active = await activate(config, logger, registry);
    logger.info({ url: server.url, waitedMs: Date.now() - startedWaiting }, 'manager active');
  })();
  activation.catch((error: unknown) => {
    if (!abort.signal.aborted) {
      logger.fatal({ err: error }, 'manager failed to become active');
      process.exit(1);
    }
  });

  return {
    url: config.advertisedUrl ?? server.url,
    active: activation,
    async stop() {
      abort.abort();
      await server.close();
      await active?.stop();
      await leadership?.release();
      logger.info('manager stopped');
    },
  };
}

/** Wires the active manager together: Central DB, in-memory state, membership, log sync, Connect service. */
async function activate(config: ManagerConfig, logger: Logger, registry: Registry): Promise<ActiveManager> {
  const pool = createPool(config.databaseUrl, { applicationName: 'partq-manager', logger });
  const db = databaseOn(pool);
  const migrated = await migrateToLatest(db, {
    // An upgrade may convert stored records (0010 rewrites every committed message): say so before it starts.
    onPending: (names) => logger.info({ migrations: names }, 'migrating the Central DB schema'),
  });
  if (migrated.length > 0) logger.info({ migrations: migrated }, 'Central DB schema migrated');

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
  const messages = new MessageStore(db, pool);
  const sync = new BrokerSync(state, brokers, messages, lock, txlog, logger, {
    intervalMs: config.syncInterval,
    threshold: config.syncThreshold,
    maxRecords: config.syncMaxRecords,
    metrics: {
      committedRecords: new Counter({ name: 'partq_manager_synced_records_total', help: 'Broker records committed to PostgreSQL', registers: [registry] }),
      failures: new Counter({ name: 'partq_manager_sync_failures_total', help: 'Syncs of a broker that failed and are retried', registers: [registry] }),
      failingBrokers: new Gauge({
        name: 'partq_manager_sync_failing_brokers',
        help: 'Brokers whose syncs to PostgreSQL have failed 3 or more times in a row',
        registers: [registry],
      }),
      batchSize: new LeanHistogram({
        name: 'partq_manager_sync_batch_records',
        help: 'Records per sync transaction',
        buckets: [1, 10, 100, 1000, 5000, 20000],
        registry,
      }),
      syncSeconds: new LeanHistogram({
        name: 'partq_manager_sync_commit_seconds',
        help: 'Duration of a sync transaction',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registry,
      }),
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

  new Gauge({
    name: 'partq_manager_sync_lag_records',
    help: 'Records a broker holds that are not committed to PostgreSQL yet, by topic and partition',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of state.partitions.values()) {
        const end = state.reportedEnds.get(`${p.topic_id}/${p.partition_id}`);
        const topic = state.topics.get(p.topic_id)?.name ?? String(p.topic_id);
        if (end !== undefined) this.set({ topic, partition: String(p.partition_id) }, Math.max(0, end - p.high_watermark));
      }
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
    sync,
    heartbeatIntervalMs: config.heartbeatInterval,
    brokerTimeoutMs: config.brokerTimeout,
    defaultPartitions: config.defaultPartitions,
    fullDiskResumeAfterMs: config.fullDiskResumeAfter,
  });
  const retention = new RetentionTask(
    db,
    state,
    lock,
    logger,
    new Counter({
      name: 'partq_manager_retention_deleted_messages_total',
      help: 'Messages deleted by retention, by rule: consumed by every subscriber, or past a topic limit (time or size)',
      labelNames: ['rule'],
      registers: [registry],
    }),
    config.retentionInterval,
  );

  const expiredClients = new Counter({
    name: 'partq_manager_expired_clients_total',
    help: 'Producers and consumers removed after PARTQ_PRODUCER_EXPIRY / PARTQ_CONSUMER_EXPIRY without activity',
    labelNames: ['kind'],
    registers: [registry],
  });
  const clientExpiries = [
    new ClientExpiry(store, state, lock, logger, { kind: 'producer', expiryMs: config.producerExpiry, expired: expiredClients }),
    new ClientExpiry(store, state, lock, logger, { kind: 'consumer', expiryMs: config.consumerExpiry, expired: expiredClients }),
  ];

  brokerRegistry.start();
  replicaRegistry.start();
  retention.start();
  for (const expiry of clientExpiries) expiry.start();
  await assigner.reassignOrphans().catch((error: unknown) => logger.warn({ err: error }, 'initial reassignment failed'));

  return {
    service,
    async ready() {
      await db.selectFrom('topics').select('id').limit(1).execute();
      return true;
    },
    async stop() {
      retention.stop();
      for (const expiry of clientExpiries) expiry.stop();
      brokerRegistry.stop();
      replicaRegistry.stop();
      sync.stopAll();
      state.closeWatchers();
      await db.destroy();
      await txlog.close();
    },
  };
}
