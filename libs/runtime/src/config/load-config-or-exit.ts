import { ConfigError, HelpRequested } from './config-error.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import type { Config, ConfigSpec } from './spec.js';

/**
 * For an app's main(): `loadConfig`, but --help prints the help and exits 0, and a bad configuration
 * prints the reason and exits 2 (the usual code for a usage error), before any logger exists.
 */
export function loadConfigOrExit<const S extends ConfigSpec>(spec: S, options: LoadConfigOptions = {}): Config<S> {
  try {
    return loadConfig(spec, options);
  } catch (error) {
    exitOnConfigError(error, options.programName ?? 'partq');
    throw error;
  }
}

/** What loadConfigOrExit does with what loading threw: exits for --help and a bad value, returns for anything else. */
export function exitOnConfigError(error: unknown, programName: string): void {
  if (error instanceof HelpRequested) {
    process.stdout.write(error.text);
    process.exit(0);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${programName}: ${error.message}\n`);
    process.exit(2);
  }
}
