import { isRetriableCode, type ErrorCode } from './error-code.js';

/**
 * The one error type partq code throws on purpose. `code` is stable and travels over every API;
 * `details` carries machine-readable context (topic, partition, expected sequence...) and must be
 * JSON-serialisable.
 */
export class PartqError extends Error {
  override readonly name = 'PartqError';
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    if (details !== undefined) this.details = details;
  }

  /** True when the same request may succeed if simply sent again (see `isRetriableCode`). */
  get retriable(): boolean {
    return isRetriableCode(this.code);
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isPartqError(value: unknown): value is PartqError {
  return value instanceof PartqError;
}
