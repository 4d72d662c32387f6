export type BenchErrorCode = 'SETUP_FAILED' | 'MEASUREMENT_FAILED' | 'INVALID_OPTIONS' | 'HTTP_LOAD_FAILED';

/** A benchmark that cannot go on; `code` says which part failed. */
export class BenchError extends Error {
  override readonly name = 'BenchError';
  constructor(
    readonly code: BenchErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
