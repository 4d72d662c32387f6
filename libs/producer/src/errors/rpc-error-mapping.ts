import { toClientError, type ClientErrors, type ClientFailureCode } from '@partq/client-core';
import { ProducerError, type ProducerErrorCode } from './producer-error.js';

/** The shared failure codes as the producer reports them: an offset out of range is a bad argument. */
const TO_PRODUCER_CODE: Record<ClientFailureCode, ProducerErrorCode> = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  OUT_OF_RANGE: 'INVALID_ARGUMENT',
  OUT_OF_ORDER_SEQUENCE: 'OUT_OF_ORDER_SEQUENCE',
  UNAVAILABLE: 'UNAVAILABLE',
  TIMEOUT: 'TIMEOUT',
  ABORTED: 'ABORTED',
  CLOSED: 'CLOSED',
  INTERNAL: 'INTERNAL',
};

/** How the shared client code (transport, retries, abort helpers) builds ProducerErrors. */
export const producerErrors: ClientErrors<ProducerError> = {
  fromFailure: ({ code, message, ...options }) => new ProducerError(TO_PRODUCER_CODE[code], message, options),
  isOwn: (error): error is ProducerError => error instanceof ProducerError,
};

/**
 * Turns whatever an RPC call threw into a ProducerError (see describeRpcFailure in @partq/client-core).
 * `signal` is the caller's: when it fired, the failure is ABORTED whatever the transport made of it.
 */
export function toProducerError(error: unknown, signal?: AbortSignal): ProducerError {
  return toClientError(producerErrors, error, signal);
}
