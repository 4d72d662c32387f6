export { ERROR_CODES, isErrorCode, isRetriableCode, type ErrorCode } from './error-code.js';
export { PartqError, isPartqError } from './partq-error.js';
export { isSupersededRun, supersededRunError } from './superseded.js';
export { httpStatusOf } from './http-status.js';
export {
  ERROR_CODE_HEADER,
  ERROR_DETAILS_HEADER,
  connectCodeOf,
  errorCodeFromConnectCode,
  toConnectError,
  fromConnectError,
} from './connect-mapping.js';
export { classifyForeignError } from './classify.js';
export { describePostgresFailure } from './postgres-failure.js';
export { wrapServiceImpl, type WrapServiceOptions, type ServiceErrorInfo } from './wrap-service.js';
