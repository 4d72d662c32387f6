import { ClientError } from '@partq/client-core';

/** Every code a ProducerError can carry. A closed set: switch on it, never on the message. */
export const PRODUCER_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'PAYLOAD_TOO_LARGE',
  'OUT_OF_ORDER_SEQUENCE',
  'UNAVAILABLE',
  'TIMEOUT',
  'ABORTED',
  'CLOSED',
  'INTERNAL',
] as const;

export type ProducerErrorCode = (typeof PRODUCER_ERROR_CODES)[number];

/**
 * The one error type the producer rejects with: `code`, `retriable` (true when the same call may
 * succeed if made again later) and `serverCode` (the server's `partq-error-code`, for diagnostics).
 */
export class ProducerError extends ClientError<ProducerErrorCode> {
  override readonly name = 'ProducerError';
}
