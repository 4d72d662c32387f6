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
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(e.text);
      process.exit(0);
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`${options.programName ?? 'partq'}: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}
