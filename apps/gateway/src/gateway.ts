import { ActivityReporter, MetadataView, MetadataWatcher } from '@partq/cluster';
import { Acks, BrokerService, ManagerService, ReplicaService } from '@partq/proto';
import {
  closeRpcTransports,
  createLogger,
  createMetricsRegistry,
  createRpcClient,
  startServiceServer,
  type Logger,
  type ServiceServer,
} from '@partq/runtime';
import type { FastifyInstance } from 'fastify';
import { AdminToken } from './admin/admin-token.js';
import { ClusterAdmin } from './admin/cluster-admin.js';
import { HealthReport } from './admin/health-report.js';
import { Registrations } from './admin/registrations.js';
import { TopicAdmin } from './admin/topic-admin.js';
import { EndOffsetReader } from './cluster/end-offset-reader.js';
import { MetadataLookup } from './cluster/metadata-lookup.js';
import { MetadataRefresher } from './cluster/metadata-refresher.js';
import { PeerClients } from './cluster/peer-clients.js';
import { ReadinessGate } from './cluster/readiness-gate.js';
import type { GatewayConfig } from './config.js';
import { readinessInterceptor } from './connect/readiness-interceptor.js';
import { connectRoutes } from './connect/routes.js';
import { ConsumerReads } from './consume/consumer-reads.js';
import { ReplicaRouter } from './consume/replica-router.js';
import type { GatewayServices } from './gateway-services.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { recordHttpDurations } from './metrics/http-metrics-hook.js';
import { ProducerRouter } from './produce/producer-router.js';
import { restApi } from './rest/rest-api.js';
import { registerApiDocs } from './docs/api-docs.js';
import { statusPage } from './ui/status-page.js';

export interface StartGatewayOptions {
  /** Defaults to a JSON logger on stdout at `config.logLevel`. */
  logger?: Logger;
  /**
   * Resolve only once the first metadata snapshot arrived (default true). When false the gateway
   * listens at once and holds requests until the snapshot comes (GET /readyz says when).
   */
  waitForMetadata?: boolean;
  /** How long a request that arrives before the first metadata snapshot waits for it. Default 5 s. */
  metadataWaitMs?: number;
  /** How often producer / consumer activity is reported to the manager. Default 1 s. */
  activityIntervalMs?: number;
}

export interface Gateway {
  /** Base URL of the REST API and the Connect services, e.g. http://127.0.0.1:8080. */
  url: string;
  port: number;
  /** The Fastify app (tests use `inject()`). */
  app: FastifyInstance;
  /** The gateway's copy of the cluster metadata. */
  view: MetadataView;
  /** Stops accepting, lets in-flight requests finish, reports the last activity, closes connections. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the public edge: REST API and Connect services on one port, fed by the manager's metadata stream. */
export async function startGateway(config: GatewayConfig, options: StartGatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ role: 'gateway', instanceId: config.instanceId, level: config.logLevel });
  const registry = createMetricsRegistry('gateway');
  const metrics = new GatewayMetrics(registry);

  const manager = createRpcClient(ManagerService, config.managerUrl);
  const view = new MetadataView();
  // Every in-flight append and every waiting retry listens for changes: far more than Node's default 10.
  view.setMaxListeners(0);
  const watcher = new MetadataWatcher({ manager, view, watcher: config.instanceId, logger });
  const activity = new ActivityReporter(manager, logger, options.activityIntervalMs);
  const brokers = new PeerClients(BrokerService);
  const replicas = new PeerClients(ReplicaService);
  const refresher = new MetadataRefresher(manager, view);
  const lookup = new MetadataLookup(view, refresher);
  const gate = new ReadinessGate(view, options.metadataWaitMs);

  const shutdown = new AbortController();
  const services: GatewayServices = {
    view,
    stopping: shutdown.signal,
    topics: new TopicAdmin({ manager, view, lookup, endOffsets: new EndOffsetReader(view, brokers), logger }),
    registrations: new Registrations({ manager, view, lookup }),
    producer: new ProducerRouter({
      view,
      lookup,
      refresher,
      brokers,
      maxMessageBytes: config.maxMessageBytes,
      produceTimeoutMs: config.produceTimeoutMs,
      stickyPartitionBytes: config.stickyPartitionBytes,
      logger,
      onProduced: (topic, producerId, count) => {
        metrics.produced.inc({ topic: topic.name }, count);
        activity.producerActive(producerId);
      },
      onAppended: (acks, seconds) => metrics.observeAppend(acks === Acks.ALL, seconds),
      onLaneWaited: (seconds) => metrics.laneWait.observe(seconds),
      onPartitionStalled: (topic) => metrics.stalledPartitions.inc({ topic: topic.name }),
    }),
    reads: new ConsumerReads({
      lookup,
      replicas: new ReplicaRouter({ view, refresher, replicas, logger }),
      onConsumed: (topic, consumerId, count) => {
        if (count > 0) metrics.consumed.inc({ topic: topic.name }, count);
        activity.consumerActive(consumerId);
      },
    }),
    health: new HealthReport(manager, view),
    admin: new ClusterAdmin(manager, view),
    adminToken: new AdminToken(config.adminToken),
  };

  const closeClients = (): void => {
    brokers.close();
    replicas.close();
    closeRpcTransports(config.managerUrl);
  };

  let server: ServiceServer;
  try {
    server = await startServiceServer({
      host: config.host,
      port: config.port,
      logger,
      registry,
      bodyLimitBytes: config.batchBodyLimit,
      routes: connectRoutes(services, logger, registry),
      interceptors: [readinessInterceptor(gate)],
      ready: () => view.ready,
      configure: async (app) => {
        recordHttpDurations(app, metrics);
        registerApiDocs(app);
        await app.register(statusPage, { services, brokers, metrics });
        await app.register(restApi, { services, gate, bodyLimit: config.bodyLimit, batchBodyLimit: config.batchBodyLimit });
      },
    });
  } catch (error) {
    closeClients();
    throw error;
  }

  const watching = watcher.start();
  activity.start();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Consume and send streams never end by themselves: end them first, so the server does not wait out its grace period.
      services.reads.endStreams();
      shutdown.abort();
      await server.close();
      await watcher.stop();
      await activity.stop();
      closeClients();
      logger.info('gateway stopped');
    })();
    return stopping;
  };

  if (options.waitForMetadata ?? true) {
    try {
      await watching;
    } catch (error) {
      await stop();
      throw error;
    }
  }
  logger.info({ url: server.url, managerUrl: config.managerUrl }, 'gateway listening');
  return { url: server.url, port: server.port, app: server.app, view, stop };
}
