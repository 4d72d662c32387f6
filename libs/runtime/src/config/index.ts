export {
  defineConfig,
  describeConfig,
  flagOf,
  type Config,
  type ConfigSpec,
  type OptionSpec,
  type OptionType,
  type OptionValue,
  type StringOption,
  type NumberOption,
  type BooleanOption,
  type ListOption,
  type UrlOption,
  type DurationOption,
} from './spec.js';
export { ConfigError, HelpRequested, type ConfigErrorCode } from './config-error.js';
export { loadConfig, type LoadConfigOptions } from './load-config.js';
export { exitOnConfigError, loadConfigOrExit } from './load-config-or-exit.js';
export { formatHelp } from './help.js';
export { parseDuration } from './parse-value.js';
