export { LeanHistogram, type HistogramLabels, type HistogramSeries, type LeanHistogramConfig } from './lean-histogram.js';
export { createMetricsRegistry, METRICS_PREFIX } from './registry.js';
export { rpcDurationHistogram, type RpcLabel } from './rpc-duration.js';
export { rpcMetricsInterceptor } from './rpc-metrics-interceptor.js';
