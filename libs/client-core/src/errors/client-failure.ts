/**
 * Every code the shared client code can report. A superset of what each client exposes: each client
 * narrows it to its own closed union (see its `rpc-error-mapping.ts`) when it builds its public error.
 */
export const CLIENT_FAILURE_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'PAYLOAD_TOO_LARGE',
  'OUT_OF_RANGE',
  'OUT_OF_ORDER_SEQUENCE',
  'UNAVAILABLE',
  'TIMEOUT',
  'ABORTED',
  'CLOSED',
  'INTERNAL',
] as const;

export type ClientFailureCode = (typeof CLIENT_FAILURE_CODES)[number];

/** What went wrong, before a client turns it into its own error class. */
export interface ClientFailure {
  code: ClientFailureCode;
  message: string;
  cause?: unknown;
  /** The code the server sent in `partq-error-code`, when there was one (kept for diagnostics). */
  serverCode?: string;
}

/**
 * How a client turns failures into its own public error, and recognises that error when it comes
 * back through shared code (so it is passed on unchanged, not wrapped).
 */
export interface ClientErrors<E extends Error> {
  fromFailure(failure: ClientFailure): E;
  isOwn(error: unknown): error is E;
}

/** Codes worth another attempt as they are: the gateway (or what is behind it) was briefly out of reach. */
const RETRIABLE: ReadonlySet<string> = new Set<ClientFailureCode>(['UNAVAILABLE', 'TIMEOUT']);

export function isRetriableCode(code: string): boolean {
  return RETRIABLE.has(code);
}
