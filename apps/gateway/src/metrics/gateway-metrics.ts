import { Counter, type Registry } from 'prom-client';
import { LeanHistogram, type HistogramSeries } from '@partq/runtime';

/** Request durations from a cache hit (~0.2 ms) to a produce that waited out a failover (10 s). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Append round trips and lane waits: an fsync on an idle disk (~0.2 ms) to a stalled broker (seconds). */
const APPEND_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1, 2, 5];

/** The gateway's own series, next to the runtime's process and RPC metrics in the same registry. */
export class GatewayMetrics {
  readonly produced: Counter<'topic'>;
  readonly consumed: Counter<'topic'>;
  readonly httpDuration: LeanHistogram<'route' | 'method' | 'status'>;
  readonly stalledPartitions: Counter<'topic'>;
  readonly appendDuration: LeanHistogram<'acks'>;
  readonly laneWait: LeanHistogram;
  private readonly appendAcksBroker: HistogramSeries;
  private readonly appendAcksAll: HistogramSeries;

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
    this.appendDuration = new LeanHistogram({
      name: 'partq_gateway_append_duration_seconds',
      help: 'Round trip of Appends acknowledged by brokers (one per group of produces to a partition), by acks mode',
      labelNames: ['acks'],
      buckets: APPEND_BUCKETS,
      registry,
    });
    this.laneWait = new LeanHistogram({
      name: 'partq_gateway_append_wait_seconds',
      help: "Time a produce's records waited for the Append before them to the same partition to come back",
      buckets: APPEND_BUCKETS,
      registry,
    });
    this.appendAcksBroker = this.appendDuration.series({ acks: 'broker' });
    this.appendAcksAll = this.appendDuration.series({ acks: 'all' });
    this.httpDuration = new LeanHistogram({
      name: 'partq_gateway_http_request_duration_seconds',
      help: 'Duration of REST requests, by route pattern, method and HTTP status',
      labelNames: ['route', 'method', 'status'],
      buckets: DURATION_BUCKETS,
      registry,
    });
  }

  /** One Append's round trip (both series exist from the start, so a dashboard sees zeros rather than nothing). */
  observeAppend(acksAll: boolean, seconds: number): void {
    (acksAll ? this.appendAcksAll : this.appendAcksBroker).observe(seconds);
  }
}
