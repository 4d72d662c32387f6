import { collectDefaultMetrics, Registry } from 'prom-client';

/** Prefix of every metric partq exports. */
export const METRICS_PREFIX = 'partq_';

/**
 * A registry of its own per process role (never prom-client's global one, so tests and several
 * servers in one process do not collide), with Node's process metrics and `role` on every series.
 */
export function createMetricsRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  return registry;
}
