import type { BrokerService } from '@partq/proto';
import type { FastifyPluginAsync } from 'fastify';
import type { PeerClients } from '../cluster/peer-clients.js';
import { HIDDEN_FROM_DOCS } from '../docs/route-catalog.js';
import type { GatewayServices } from '../gateway-services.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { ClusterStatus } from './cluster-status.js';
import { EndOffsetReader } from '../cluster/end-offset-reader.js';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page-html.js';
import { statusSnapshotSchema } from './status-snapshot-schema.js';
import { TrafficSampler } from './traffic-sampler.js';

export const STATUS_PAGE_PATH = '/ui';
export const STATUS_API_PATH = '/ui/api/status';

export interface StatusPageOptions {
  services: Pick<GatewayServices, 'view' | 'health' | 'reads'>;
  /** Clients of the brokers, to ask them for end offsets. */
  brokers: PeerClients<typeof BrokerService>;
  /** The gateway's produced/consumed counters, sampled for rates. */
  metrics: Pick<GatewayMetrics, 'produced' | 'consumed'>;
  /** How often the counters are sampled (default 1 s) and the window of the rates (default 5 s). */
  sampleIntervalMs?: number;
  rateWindowMs?: number;
}

/**
 * GET /ui: a live status page (one self-contained HTML document) and GET /ui/api/status, the JSON
 * it polls every second: topics with their partitions and offsets, brokers, replicas, producers,
 * consumers with their lag, and this gateway's produce and consume rates.
 */
export const statusPage: FastifyPluginAsync<StatusPageOptions> = async (app, options) => {
  const traffic = new TrafficSampler({
    produced: options.metrics.produced,
    consumed: options.metrics.consumed,
    sampleIntervalMs: options.sampleIntervalMs,
    windowMs: options.rateWindowMs,
  });
  const status = new ClusterStatus({
    view: options.services.view,
    health: options.services.health,
    reads: options.services.reads,
    endOffsets: new EndOffsetReader(options.services.view, options.brokers),
    traffic,
  });
  traffic.start();
  app.addHook('onClose', async () => traffic.stop());

  const page = { config: HIDDEN_FROM_DOCS };
  for (const url of [STATUS_PAGE_PATH, `${STATUS_PAGE_PATH}/`]) {
    app.get(url, page, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', STATUS_PAGE_CSP)
        .header('cache-control', 'no-cache')
        .send(STATUS_PAGE_HTML),
    );
  }
  app.get(STATUS_API_PATH, { ...page, schema: { response: { 200: statusSnapshotSchema } } }, async (_request, reply) => reply.header('cache-control', 'no-store').send(await status.current()));
};
