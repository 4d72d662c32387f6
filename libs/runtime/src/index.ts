export * from './errors/index.js';
export * from './config/index.js';
export * from './log/index.js';
export * from './metrics/index.js';
export * from './server/index.js';
export * from './rpc/index.js';
export { retry, sleep, type RetryOptions } from './retry.js';
export { runService, type RunningService, type ServiceMain } from './lifecycle/run-service.js';
export { LIFELINE_FD_ENV, watchLifeline } from './lifecycle/lifeline.js';
export { KeyedMutex, Mutex } from './sync/keyed-mutex.js';
export { mapWithLimit } from './sync/map-with-limit.js';
export {
  REQUEST_ID_HEADER,
  currentRequestId,
  newRequestId,
  requestIdFrom,
  runWithRequestId,
  requestIdServerInterceptor,
  requestIdClientInterceptor,
} from './context/request-context.js';
export { applyHeapGrowth, heapGrowthOption } from './lifecycle/heap-growth.js';
export { MALLOC_TUNING_ENV } from './lifecycle/malloc-tuning.js';
