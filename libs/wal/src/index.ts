export { Wal } from './wal.js';
export type { RecordSource } from './record-source.js';
export type { AppendResult, TrimOptions, WalLogger, WalOptions, WalRecord, WalStats } from './wal.js';
export type { RecoveryReason, RecoveryReport } from './recover-segments.js';
export { WalError } from './wal-error.js';
export type { WalErrorCode } from './wal-error.js';
export { MAX_RECORD_BYTES } from './frame.js';
export { isOutOfSpace } from './out-of-space.js';
