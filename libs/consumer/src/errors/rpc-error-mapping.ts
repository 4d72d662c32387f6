import { toClientError, type ClientErrors, type ClientFailureCode } from '@partq/client-core';
import { ConsumerError, type ConsumerErrorCode } from './consumer-error.js';

/**
 * The shared failure codes as the consumer reports them. Codes a read cannot meet in normal operation
 * (a position outside the retained log, a conflict on create, a producer's sequence) are INTERNAL, with the server's code
 * kept in `serverCode`; a consumer sends nothing that can be too large, so that is a bad argument.
 */
const TO_CONSUMER_CODE: Record<ClientFailureCode, ConsumerErrorCode> = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'INTERNAL',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  PAYLOAD_TOO_LARGE: 'INVALID_ARGUMENT',
  OUT_OF_RANGE: 'INTERNAL',
  OUT_OF_ORDER_SEQUENCE: 'INTERNAL',
  UNAVAILABLE: 'UNAVAILABLE',
  TIMEOUT: 'TIMEOUT',
  ABORTED: 'ABORTED',
  CLOSED: 'CLOSED',
  INTERNAL: 'INTERNAL',
};

/** How the shared client code (transport, retries, abort helpers) builds ConsumerErrors. */
export const consumerErrors: ClientErrors<ConsumerError> = {
  fromFailure: ({ code, message, ...options }) => new ConsumerError(TO_CONSUMER_CODE[code], message, options),
  isOwn: (error): error is ConsumerError => error instanceof ConsumerError,
};

/**
 * Turns whatever an RPC call threw into a ConsumerError (see describeRpcFailure in @partq/client-core).
 * `signal` is the caller's: when it fired, the failure is ABORTED whatever the transport made of it.
 */
export function toConsumerError(error: unknown, signal?: AbortSignal): ConsumerError {
  return toClientError(consumerErrors, error, signal);
}
