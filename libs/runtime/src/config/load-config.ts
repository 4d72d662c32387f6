import { ConfigError, HelpRequested } from './config-error.js';
import { formatHelp } from './help.js';
import { InvalidValue, normaliseDefault, parseValue } from './parse-value.js';
import { flagOf, type Config, type ConfigSpec, type OptionSpec } from './spec.js';

export interface LoadConfigOptions {
  /** Command-line arguments without node and the script; defaults to `process.argv.slice(2)`. */
  argv?: readonly string[];
  /** Defaults to `process.env`. Empty variables count as unset (as docker compose writes `FOO=`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Shown in the usage line of --help. */
  programName?: string;
}

/**
 * Reads every option of `spec`: a flag overrides the environment variable, which overrides the default.
 * Flags are `--name=value` or `--name value`; booleans are `--name` / `--no-name` (or `--name=false`);
 * a list flag may repeat. Throws `HelpRequested` for --help/-h, `ConfigError` for anything invalid.
 */
export function loadConfig<const S extends ConfigSpec>(spec: S, options: LoadConfigOptions = {}): Config<S> {
  const argv = options.argv ?? process.argv.slice(2);
  const env = options.env ?? process.env;
  if (argv.some((arg) => arg === '--help' || arg === '-h')) throw new HelpRequested(formatHelp(spec, options.programName));

  const flags = collectFlags(spec, argv);
  const config: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec)) {
    const flag = flagOf(key, option);
    const fromFlag = flags.get(key);
    const fromEnv = option.env === undefined ? undefined : env[option.env];
    if (fromFlag !== undefined) {
      config[key] = parsed(key, `--${flag}`, () => (typeof fromFlag === 'boolean' ? fromFlag : parseValue(option, fromFlag)));
    } else if (fromEnv !== undefined && fromEnv !== '') {
      config[key] = parsed(key, `env ${option.env}`, () => parseValue(option, fromEnv));
    } else if (option.default !== undefined) {
      const fallback = option.default;
      config[key] = parsed(key, 'default', () => normaliseDefault(option, fallback));
    } else if (option.required) {
      const where = [option.env === undefined ? undefined : `environment variable ${option.env}`, `flag --${flag}`].filter(Boolean);
      throw new ConfigError('MISSING_REQUIRED', `missing required option ${key}: set ${where.join(' or ')}`);
    } else {
      config[key] = undefined;
    }
  }
  return config as Config<S>;
}

/** Raw flag values by option key: a string, or every value of a repeated list flag. */
function collectFlags(spec: ConfigSpec, argv: readonly string[]): Map<string, string | string[] | boolean> {
  const byFlag = new Map<string, [string, OptionSpec]>();
  for (const [key, option] of Object.entries(spec)) byFlag.set(flagOf(key, option), [key, option]);

  const values = new Map<string, string | string[] | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      throw new ConfigError('UNKNOWN_FLAG', `unexpected argument "${arg}" (options are given as --name=value; see --help)`);
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);

    const known = byFlag.get(name);
    if (!known) {
      const negated = name.startsWith('no-') ? byFlag.get(name.slice(3)) : undefined;
      if (negated && negated[1].type === 'boolean' && inline === undefined) {
        values.set(negated[0], false);
        continue;
      }
      throw new ConfigError('UNKNOWN_FLAG', `unknown flag --${name} (see --help)`);
    }
    const [key, option] = known;
    if (option.type === 'boolean' && inline === undefined) {
      values.set(key, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      // A following token that is itself a flag is not a value; "-5" (a negative number) is.
      if (next === undefined || next.startsWith('--')) {
        throw new ConfigError('INVALID_CONFIG', `flag --${name} (option ${key}) needs a value`);
      }
      value = next;
      i++;
    }
    const previous = values.get(key);
    values.set(key, option.type === 'list' ? [...(Array.isArray(previous) ? previous : []), value] : value);
  }
  return values;
}

/** Runs a parse and names the option and where its value came from when it fails. */
function parsed(key: string, source: string, parse: () => unknown): unknown {
  try {
    return parse();
  } catch (e) {
    if (e instanceof InvalidValue) throw new ConfigError('INVALID_CONFIG', `invalid value for ${key} (${source}): ${e.message}`);
    throw e;
  }
}
