import type { Registry } from 'prom-client';
import { LeanHistogram } from './lean-histogram.js';
import { METRICS_PREFIX } from './registry.js';

export type RpcLabel = 'service' | 'method' | 'code';

const NAME = `${METRICS_PREFIX}rpc_duration_seconds`;

/** Spans 0.5 ms (an in-memory call) to 10 s (a slow sync); Prometheus' defaults start too coarse. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The histogram of RPC durations, labelled by service, method and partq error code ('OK' on success).
 * Returns the existing one when the registry has it already, so every caller shares one series set.
 */
export function rpcDurationHistogram(registry: Registry): LeanHistogram<RpcLabel> {
  const existing: unknown = registry.getSingleMetric(NAME);
  if (existing instanceof LeanHistogram) return existing as LeanHistogram<RpcLabel>;
  return new LeanHistogram<RpcLabel>({
    name: NAME,
    help: 'Duration of RPCs handled, by service, method and partq error code (OK on success)',
    labelNames: ['service', 'method', 'code'],
    buckets: BUCKETS,
    registry,
  });
}
