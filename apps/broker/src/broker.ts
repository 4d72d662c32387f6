import { mkdir } from 'node:fs/promises';
import { BrokerService } from '@partq/proto';
import { createLogger, createMetricsRegistry, multiplexedCallsCountedAs, startServiceServer, wrapServiceImpl, type Logger, type ServiceServer } from '@partq/runtime';
import type { Registry } from 'prom-client';
import { BrokerMetrics, walSyncMetrics } from './broker-metrics.js';
import { lockDataDir } from './data-dir-lock.js';
import type { BrokerConfig } from './config.js';
import { PartitionStore } from './log/partition-store.js';
import { StorageSpace } from './log/storage-space.js';
import { committedSequencesFrom } from './membership/committed-sequences.js';
import { ManagerLink } from './membership/manager-link.js';
import { StallFence } from './membership/stall-fence.js';
import { BrokerServiceHandlers } from './service/broker-service.js';

export interface StartBrokerOptions {
  /** Defaults to a JSON logger on stdout at `config.logLevel`. */
  logger?: Logger;
  /** Defaults to a fresh registry for the broker role. */
  registry?: Registry;
  /**
   * Resolve only once the manager accepted the registration (default true), so `brokerId` is known.
   * main() passes false: the broker then serves its recovered partitions while the manager is away.
   */
  awaitRegistration?: boolean;
}

export interface RunningBroker {
  /** Base URL the broker serves on (as advertised to the manager). */
  readonly url: string;
  /** Id given by the manager (remembered in broker.json across restarts); 0 before the first registration ever. */
  readonly brokerId: number;
  /** Resolves with the broker id once registered. */
  readonly registered: Promise<number>;
  /** Graceful shutdown: stop heartbeats, answer long-polls, stop accepting, finish in-flight calls, close WALs. */
  stop(): Promise<void>;
}

/** Opens the partition logs, serves BrokerService, and joins the cluster through the manager. */
export async function startBroker(config: BrokerConfig, options: StartBrokerOptions = {}): Promise<RunningBroker> {
  const logger = options.logger ?? createLogger({ role: 'broker', instanceId: String(process.pid), level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  const registry = options.registry ?? createMetricsRegistry('broker');
  const walSync = walSyncMetrics(registry);
  const unlock = await lockDataDir(config.dataDir);
  const space = new StorageSpace({ dir: config.dataDir, logger });
  let store: PartitionStore;
  try {
    store = await PartitionStore.open({
      dataDir: config.dataDir,
      segmentBytes: config.segmentBytes,
      fsync: config.fsync,
      cacheBytes: config.cacheBytes,
      retainBytes: config.retainBytes,
      logger,
      committedSequences: committedSequencesFrom(config.managerUrl),
      onWalSync: walSync,
      onWriteFailed: (error) => space.noteWriteFailure(error),
      producerExpiryMs: config.producerExpiry,
    });
  } catch (error) {
    await unlock();
    throw error;
  }
  let link: ManagerLink | undefined;
  const stallFence = new StallFence({ thresholdMs: config.stallFence, logger, onStall: () => link?.heartbeatNow() });
  stallFence.start();
  const onError = ({ method, error, code }: { method: string; error: unknown; code: string }): void => {
    if (code === 'INTERNAL') logger.error({ err: error, method }, 'broker: request failed');
  };
  const handlers = new BrokerServiceHandlers({
    store,
    // An Append on an AppendStream fails alone (the stream goes on): logged and counted as an Append call.
    appendCalls: multiplexedCallsCountedAs(registry, BrokerService.method.append, onError),
    metrics: new BrokerMetrics(registry, store, stallFence, space),
    maxMessageBytes: config.maxMessageBytes,
    acksAllTimeoutMs: config.acksAllTimeout,
    tailHeartbeatMs: config.tailHeartbeat,
    stallFence,
  });
  const service = wrapServiceImpl(handlers.implementation(), { onError });

  let server: ServiceServer;
  try {
    server = await startServiceServer({
      host: config.host,
      port: config.port,
      logger,
      registry,
      routes: (router) => router.service(BrokerService, service),
      ready: () => link?.registered ?? false,
    });
  } catch (error) {
    stallFence.stop();
    space.stop();
    await store.close();
    await unlock();
    throw error;
  }
  const url = config.advertisedUrl ?? server.url;
  link = new ManagerLink({ managerUrl: config.managerUrl, advertisedUrl: url, dataDir: config.dataDir, store, logger, stallFence, space });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await link.stop();
      handlers.interrupt();
      await server.close();
      await store.close();
      stallFence.stop();
      space.stop();
      await unlock();
      logger.info({ url }, 'broker: stopped');
    })();
    return stopping;
  };

  try {
    await link.start();
  } catch (error) {
    await stop();
    throw error;
  }
  const registered = link.whenRegistered();
  if (options.awaitRegistration ?? true) await registered;
  logger.info({ url, dataDir: config.dataDir, partitions: store.size, brokerId: link.brokerId }, 'broker: serving');

  const running = link;
  return {
    url,
    get brokerId() {
      return running.brokerId;
    },
    registered,
    stop,
  };
}
