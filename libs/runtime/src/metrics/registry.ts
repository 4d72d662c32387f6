import { collectDefaultMetrics, Registry } from 'prom-client';
import { eventLoopDelayMetricNames, registerEventLoopDelay } from './event-loop-delay.js';

/** Prefix of every metric partq exports. */
export const METRICS_PREFIX = 'partq_';

/**
 * How often the event-loop delay histogram (`partq_nodejs_eventloop_lag_*`) takes a sample, in ms.
 * Each sample is a timer that wakes the process: at prom-client's default of 10 ms every role woke
 * 100 times a second even when idle, ~600 wake-ups a second for a local cluster. A stall of 100 ms
 * or more is still always seen; shorter ones show up in proportion to their length.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * prom-client's own event-loop histogram samples this rarely (about once in 24 days): its gauges
 * report the sampling interval as delay, so partq replaces them (see registerEventLoopDelay) and
 * keeps its timer from waking the process.
 */
const UNUSED_SAMPLE_MS = 2 ** 31 - 1;

/**
 * A registry of its own per process role (never prom-client's global one, so tests and several
 * servers in one process do not collide), with Node's process metrics and `role` on every series.
 */
export function createMetricsRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX, eventLoopMonitoringPrecision: UNUSED_SAMPLE_MS });
  for (const name of eventLoopDelayMetricNames(METRICS_PREFIX)) registry.removeSingleMetric(name);
  registerEventLoopDelay(registry, METRICS_PREFIX, EVENT_LOOP_SAMPLE_MS);
  return registry;
}
