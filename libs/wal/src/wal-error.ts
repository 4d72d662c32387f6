/**
 * Why an operation on the write-ahead log failed. Callers branch on `code`, never on the message.
 * WRITE_FAILED: a write or fsync failed; the WAL refuses further writes until it is reopened (recovery then
 * cuts any half-written tail), so no gap or reordering can follow a failure.
 * TRIM_ABORTED: a trim's `beforeDelete` threw (its error is the cause); nothing was deleted and the log
 * stays writable.
 */
export type WalErrorCode =
  | 'OFFSET_OUT_OF_RANGE'
  | 'CLOSED'
  | 'CORRUPT'
  | 'RECORD_TOO_LARGE'
  | 'INVALID_ARGUMENT'
  | 'WRITE_FAILED'
  | 'TRIM_ABORTED';

export class WalError extends Error {
  override readonly name = 'WalError';

  constructor(
    readonly code: WalErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
