import { isRetriableCode } from './client-failure.js';

export interface ClientErrorOptions {
  cause?: unknown;
  /** The code the server sent in `partq-error-code`, when there was one (kept for diagnostics). */
  serverCode?: string;
}

/**
 * The body both public error classes share (ProducerError, ConsumerError): a code from the client's
 * own closed union, whether the call is worth repeating, and the server's code for diagnostics.
 */
export abstract class ClientError<C extends string> extends Error {
  readonly code: C;
  /** True when the same call may succeed if made again later. */
  readonly retriable: boolean;
  readonly serverCode?: string;

  constructor(code: C, message: string, options: ClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = isRetriableCode(code);
    if (options.serverCode !== undefined) this.serverCode = options.serverCode;
  }
}
