/** Why the command line stopped: a wrong invocation, a failure, or an interruption (Ctrl-C). */
export type CliErrorCode = 'USAGE' | 'FAILED' | 'INTERRUPTED';

/** Exit status per outcome: 0 ok, 1 error, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export type ExitCode = typeof EXIT_OK | typeof EXIT_ERROR | typeof EXIT_USAGE;

export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    readonly code: CliErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }

  get exitCode(): ExitCode {
    return this.code === 'USAGE' ? EXIT_USAGE : EXIT_ERROR;
  }
}

export function usageError(message: string): CliError {
  return new CliError('USAGE', message);
}
