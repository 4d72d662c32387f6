export type ConfigErrorCode = 'INVALID_CONFIG' | 'UNKNOWN_FLAG' | 'MISSING_REQUIRED';

/** A configuration the process cannot start with; the message names the option and where it came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown by `loadConfig` for `--help` / `-h`: not a failure, the caller prints `text` and exits 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  readonly code = 'HELP_REQUESTED' as const;
  constructor(readonly text: string) {
    super('help requested');
  }
}
