import { ClientError } from '@partq/client-core';

/** Every code a ConsumerError can carry. A closed set: switch on it, never on the message. */
export const CONSUMER_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'PERMISSION_DENIED',
  'UNAVAILABLE',
  'TIMEOUT',
  'ABORTED',
  'CLOSED',
  'INTERNAL',
] as const;

export type ConsumerErrorCode = (typeof CONSUMER_ERROR_CODES)[number];

/**
 * The one error type the consumer rejects with (and emits as 'error'): `code`, `retriable` (true when
 * the same call may succeed if made again later) and `serverCode` (the server's `partq-error-code`,
 * for diagnostics).
 */
export class ConsumerError extends ClientError<ConsumerErrorCode> {
  override readonly name = 'ConsumerError';
}
