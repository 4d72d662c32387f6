/** Every code a ProducerError can carry. A closed set: switch on it, never on the message. */
export const PRODUCER_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'PAYLOAD_TOO_LARGE',
  'UNAVAILABLE',
  'TIMEOUT',
  'ABORTED',
  'CLOSED',
  'INTERNAL',
] as const;

export type ProducerErrorCode = (typeof PRODUCER_ERROR_CODES)[number];

/** Codes worth another attempt as they are: the gateway (or what is behind it) was briefly out of reach. */
const RETRIABLE: ReadonlySet<ProducerErrorCode> = new Set<ProducerErrorCode>(['UNAVAILABLE', 'TIMEOUT']);

export interface ProducerErrorOptions {
  cause?: unknown;
  /** The code the server sent in `partq-error-code`, when there was one (kept for diagnostics). */
  serverCode?: string;
}

/** The one error type the producer rejects with. */
export class ProducerError extends Error {
  override readonly name = 'ProducerError';
  readonly code: ProducerErrorCode;
  /** True when the same call may succeed if made again later. */
  readonly retriable: boolean;
  readonly serverCode?: string;

  constructor(code: ProducerErrorCode, message: string, options: ProducerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = RETRIABLE.has(code);
    if (options.serverCode !== undefined) this.serverCode = options.serverCode;
  }
}

