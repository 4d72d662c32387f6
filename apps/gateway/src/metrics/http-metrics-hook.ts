import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from './gateway-metrics.js';

/**
 * Records every HTTP request (REST and Connect alike) in partq_gateway_http_request_duration_seconds,
 * by route pattern rather than URL so that ids and query strings do not explode the series count.
 */
export function recordHttpDurations(app: FastifyInstance, metrics: GatewayMetrics): void {
  // A callback hook: it runs on every request, and an async one would cost a promise each time.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.series({ route, method: request.method, status: String(reply.statusCode) }).observe(reply.elapsedTime / 1000);
    done();
  });
}
