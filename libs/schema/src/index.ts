export * from './database.js';
export { createDatabase, createPool, databaseOn, type DatabaseOptions } from './connection.js';
export { PreparedStatement, type StatementTarget } from './prepared-statement.js';
export { migrateToLatest, type MigrateOptions } from './migrate.js';
export { migrations } from './migrations/index.js';
export { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded.js';
export {
  resolveDatabaseUrl,
  createTestDatabase,
  type ResolveDatabaseOptions,
  type ResolvedDatabase,
  type TestDatabase,
} from './provision.js';
export { SchemaError, type SchemaErrorCode } from './errors.js';
export { silentLogger, type Logger } from './logger.js';
export { parseInt8 } from './pg-types.js';
export { COPY_BINARY_HEADER_BYTES, COPY_BINARY_SIGNATURE } from './copy-binary-format.js';
