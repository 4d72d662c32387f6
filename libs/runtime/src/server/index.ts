export {
  startServiceServer,
  DEFAULT_BODY_LIMIT_BYTES,
  type ServiceServer,
  type ServiceServerOptions,
} from './start-service-server.js';
export { partqHttpErrorHandler, toHttpError, type HttpErrorBody } from './http-error-handler.js';
export {
  answerMultiplexedCalls,
  callFailureOf,
  type CallFailureShape,
  type MultiplexedAnswer,
  type MultiplexedCall,
  type MultiplexedCallsOptions,
} from './multiplexed-calls.js';
export { multiplexedCallsCountedAs } from './multiplexed-call-metrics.js';
