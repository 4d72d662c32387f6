// The partq command line as a library: runCli(argv, io) is what the `partq` bin runs.
export { runCli } from './cli.js';
export type { CliIo } from './io.js';
export { CliError, EXIT_ERROR, EXIT_OK, EXIT_USAGE } from './cli-error.js';
export type { CliErrorCode, ExitCode } from './cli-error.js';
