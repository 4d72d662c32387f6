import { collectDefaultMetrics, Registry } from 'prom-client';

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
 * A registry of its own per process role (never prom-client's global one, so tests and several
 * servers in one process do not collide), with Node's process metrics and `role` on every series.
 */
export function createMetricsRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}
