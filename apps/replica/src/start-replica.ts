import { ActivityReporter, MetadataView, MetadataWatcher } from '@partq/cluster';
import { ManagerService, ReplicaService } from '@partq/proto';
import {
  closeRpcTransports,
  createLogger,
  createMetricsRegistry,
  createRpcClient,
  sleep,
  startServiceServer,
  wrapServiceImpl,
  type Logger,
} from '@partq/runtime';
import { createPool, databaseOn } from '@partq/schema';
import type { Registry } from 'prom-client';
import type { ReplicaConfig } from './config.js';
import { RpcBrokerClientPool } from './fetch/broker-client-pool.js';
import { CommittedMessages } from './fetch/committed-messages.js';
import { EndOffsets } from './fetch/end-offsets.js';
import { PartitionReader } from './fetch/partition-reader.js';
import { ReadAheadCache } from './fetch/read-ahead-cache.js';
import { PartitionTails } from './fetch/partition-tails.js';
import { RecordWaiter } from './fetch/record-waiter.js';
import { WalStarts } from './fetch/wal-starts.js';
import { registerConsumerLagGauge } from './consumer-lag-gauge.js';
import { createReplicaMetrics } from './metrics.js';
import { watchHandovers } from './positions/handover-watch.js';
import { PositionStore } from './positions/position-store.js';
import { ReplicaMembership } from './replica-membership.js';
import { ArrivalWatch } from './service/arrival-watch.js';
import { ReplicaServiceImpl } from './service/replica-service.js';

const ACTIVITY_FLUSH_TIMEOUT_MS = 2000;

export interface StartReplicaOptions {
  /** Defaults to a JSON logger on stdout at `config.logLevel`. */
  logger?: Logger;
  /** Defaults to a registry of its own (served on GET /metrics). */
  registry?: Registry;
}

export interface RunningReplica {
  /** Where this replica's Connect server listens. */
  url: string;
  /** The id the manager gave at registration. */
  replicaId: number;
  /** The replica's copy of the cluster metadata (for inspection; the manager's stream keeps it current). */
  view: MetadataView;
  /** Stops serving (in-flight consumes finish), heartbeating and watching, and closes connections. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a replica: watches the manager's metadata, serves ReplicaService, then registers with the
 * manager (so nobody is sent here before the replica knows the cluster) and heartbeats.
 */
export async function startReplica(config: ReplicaConfig, options: StartReplicaOptions = {}): Promise<RunningReplica> {
  const logger = options.logger ?? createLogger({ role: 'replica', instanceId: `replica-${process.pid}`, level: config.logLevel });
  const registry = options.registry ?? createMetricsRegistry('replica');
  const metrics = createReplicaMetrics(registry);
  const cleanups: Array<() => Promise<void> | void> = [];
  const runCleanups = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        logger.warn({ err: error }, 'error while stopping the replica');
      }
    }
  };

  try {
    // The pool serves Kysely and, directly, the prepared position commits (PositionStore) and the COPYs of committed records.
    const pool = createPool(config.databaseUrl, { applicationName: 'partq-replica', logger: schemaLogger(logger) });
    const db = databaseOn(pool);
    cleanups.push(() => db.destroy());
    const readPool = config.readDatabaseUrl
      ? createPool(config.readDatabaseUrl, { applicationName: 'partq-replica-read', logger: schemaLogger(logger) })
      : undefined;
    if (readPool) cleanups.push(() => readPool.end());

    const manager = createRpcClient(ManagerService, config.managerUrl);
    cleanups.push(() => closeRpcTransports(config.managerUrl));
    const brokers = new RpcBrokerClientPool();
    cleanups.push(() => brokers.close());

    const view = new MetadataView();
    const watcher = new MetadataWatcher({ manager, view, watcher: `replica-${process.pid}`, logger });
    const activity = new ActivityReporter(manager, logger);
    activity.start();
    // The last report is best effort: a manager that does not answer must not hold the shutdown.
    cleanups.push(() => waitAtMost(activity.stop(), ACTIVITY_FLUSH_TIMEOUT_MS));

    const positions = new PositionStore(db, pool);
    cleanups.push(watchHandovers(view, positions));
    const endOffsets = new EndOffsets(view, brokers, logger);
    registerConsumerLagGauge(registry, view, positions, endOffsets);
    const cache = new ReadAheadCache(config.readAheadCacheBytes);
    // Brokers push the partitions consumers caught up on; long-polls serve brokers without Tail.
    const walStarts = new WalStarts();
    const fallback = new RecordWaiter({ brokers, cache, walStarts, readAhead: config.fetchMaxRecords, logger });
    const tails = new PartitionTails({ brokers, cache, walStarts, readAhead: config.fetchMaxRecords, fallback, metrics, logger });
    cleanups.push(() => tails.close());
    const arrivals = new ArrivalWatch({ view, waiter: tails });
    const service = new ReplicaServiceImpl({
      view,
      manager,
      activity,
      metrics,
      logger,
      fetchMaxRecords: config.fetchMaxRecords,
      positions,
      endOffsets,
      arrivals,
      heartbeatMs: config.streamHeartbeat,
      reader: new PartitionReader({
        view,
        brokers,
        committed: new CommittedMessages(pool, readPool),
        cache,
        walStarts,
        // A consumer behind reads its next deliveries from the cache: one source read per several.
        readAhead: Math.max(config.readAheadRecords, config.fetchMaxRecords),
        readMaxBytes: config.readAheadBytes,
        metrics,
        logger,
      }),
    });

    let membership: ReplicaMembership | undefined;
    const server = await startServiceServer({
      host: config.host,
      port: config.port,
      logger,
      registry,
      routes: (router) => {
        router.service(
          ReplicaService,
          wrapServiceImpl(service, {
            onError: ({ method, error, code }) => {
              if (code === 'INTERNAL') logger.error({ err: error, method }, 'replica request failed');
            },
          }),
        );
      },
      ready: () => view.ready && membership?.replicaId !== undefined,
    });
    // The watcher stops before the server closes its streams, so it is cleaned up after the server.
    cleanups.push(() => watcher.stop());
    cleanups.push(() => server.close());
    // Consume streams never end by themselves: end them first, so the server does not wait out its grace period.
    cleanups.push(() => service.stopStreams());

    await watcher.start();
    membership = new ReplicaMembership({ manager, address: config.advertisedUrl ?? server.url, logger });
    const replicaId = await membership.start();
    const member = membership;
    cleanups.push(() => member.stop());
    logger.info({ url: server.url, replicaId }, 'replica serving');

    let stopping: Promise<void> | undefined;
    return {
      url: server.url,
      replicaId,
      view,
      stop: () =>
        (stopping ??= runCleanups().then(() => {
          logger.info({ replicaId }, 'replica stopped');
        })),
    };
  } catch (error) {
    await runCleanups();
    throw error;
  }
}

/** Waits for `work`, but no longer than `ms`. */
async function waitAtMost(work: Promise<void>, ms: number): Promise<void> {
  const timer = new AbortController();
  try {
    await Promise.race([work, sleep(ms, timer.signal)]);
  } finally {
    timer.abort();
  }
}

/** @partq/schema logs plain strings. */
function schemaLogger(logger: Logger): { debug(m: string): void; info(m: string): void; warn(m: string): void; error(m: string): void } {
  return {
    debug: (message) => logger.debug(message),
    info: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
    error: (message) => logger.error(message),
  };
}
