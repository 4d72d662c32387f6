import { Counter, type Registry } from 'prom-client';
import { LeanHistogram } from '@partq/runtime';

/** Request durations from a cache hit (~0.2 ms) to a produce that waited out a failover (10 s). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The gateway's own series, next to the runtime's process and RPC metrics in the same registry. */
export class GatewayMetrics {
  readonly produced: Counter<'topic'>;
  readonly consumed: Counter<'topic'>;
  readonly httpDuration: LeanHistogram<'route' | 'method' | 'status'>;
  readonly stalledPartitions: Counter<'topic'>;

  constructor(registry: Registry) {
    this.produced = new Counter({
      name: 'partq_gateway_produced_messages_total',
      help: 'Messages acknowledged to producers, by topic',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.consumed = new Counter({
      name: 'partq_gateway_consumed_messages_total',
      help: 'Messages delivered to consumers, by topic',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.stalledPartitions = new Counter({
      name: 'partq_gateway_stalled_partition_skips_total',
      help: 'Times keyless messages left a partition whose Append was out longer than 200 ms (a slow or stopped broker), by topic',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.httpDuration = new LeanHistogram({
      name: 'partq_gateway_http_request_duration_seconds',
      help: 'Duration of REST requests, by route pattern, method and HTTP status',
      labelNames: ['route', 'method', 'status'],
      buckets: DURATION_BUCKETS,
      registry,
    });
  }
}
