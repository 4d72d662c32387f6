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

/** Codes worth another attempt as they are: the gateway (or what is behind it) was briefly out of reach. */
const RETRIABLE: ReadonlySet<ConsumerErrorCode> = new Set<ConsumerErrorCode>(['UNAVAILABLE', 'TIMEOUT']);

export interface ConsumerErrorOptions {
  cause?: unknown;
  /** The code the server sent in `partq-error-code`, when there was one (kept for diagnostics). */
  serverCode?: string;
}

/** The one error type the consumer rejects with (and emits as 'error'). */
export class ConsumerError extends Error {
  override readonly name = 'ConsumerError';
  readonly code: ConsumerErrorCode;
  /** True when the same call may succeed if made again later. */
  readonly retriable: boolean;
  readonly serverCode?: string;

  constructor(code: ConsumerErrorCode, message: string, options: ConsumerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = RETRIABLE.has(code);
    if (options.serverCode !== undefined) this.serverCode = options.serverCode;
  }
}
