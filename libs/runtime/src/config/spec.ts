/** The kinds of value an option can hold. */
export type OptionType = 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'url' | 'duration';

interface OptionBase {
  /** Environment variable read for this option; without one the option cannot be set from the environment. */
  env?: string;
  /** Command-line flag without the leading dashes; defaults to the key in kebab-case. */
  flag?: string;
  /** Refuse to start when no value is given and there is no default. */
  required?: boolean;
  /** One line for --help. */
  description: string;
}

export interface StringOption extends OptionBase {
  type: 'string';
  default?: string;
  choices?: readonly string[];
}
export interface NumberOption extends OptionBase {
  type: 'number' | 'integer';
  default?: number;
  min?: number;
  max?: number;
}
export interface BooleanOption extends OptionBase {
  type: 'boolean';
  default?: boolean;
}
/** Comma-separated on the command line and in the environment; a repeated flag adds items. */
export interface ListOption extends OptionBase {
  type: 'list';
  default?: readonly string[];
  /** When given, every item must be one of these. */
  choices?: readonly string[];
}
/** An absolute URL, kept as the string given (it is validated with `new URL`). */
export interface UrlOption extends OptionBase {
  type: 'url';
  default?: string;
  /** Accept a comma-separated list of URLs (peers to fail over between), each validated. */
  multiple?: boolean;
}
/** Milliseconds: "500ms", "5s", "2m", "1h", or a plain number of milliseconds. */
export interface DurationOption extends OptionBase {
  type: 'duration';
  default?: number | string;
  /** Bounds in milliseconds. */
  min?: number;
  max?: number;
}

export type OptionSpec = StringOption | NumberOption | BooleanOption | ListOption | UrlOption | DurationOption;

export type ConfigSpec = Readonly<Record<string, OptionSpec>>;

/** The TypeScript type of one option's value. A string option with `choices` is the union of them. */
export type OptionValue<O extends OptionSpec> = O extends { type: 'string'; choices: readonly (infer C extends string)[] }
  ? C
  : O extends { type: 'list'; choices: readonly (infer C extends string)[] }
    ? C[]
    : O['type'] extends 'string' | 'url'
      ? string
      : O['type'] extends 'number' | 'integer' | 'duration'
        ? number
        : O['type'] extends 'boolean'
          ? boolean
          : O['type'] extends 'list'
            ? string[]
            : never;

/** Options that always have a value: required ones, and those with a default. */
type AlwaysSet<O> = O extends { required: true } ? true : O extends { default: unknown } ? true : false;

/** The object `loadConfig` returns for a spec. */
export type Config<S extends ConfigSpec> = {
  readonly [K in keyof S]: AlwaysSet<S[K]> extends true ? OptionValue<S[K]> : OptionValue<S[K]> | undefined;
};

/**
 * Declares a spec and keeps its literal types (no `as const` needed), so `loadConfig(spec).port` is
 * a number, not `number | undefined`, when it has a default.
 */
export function defineConfig<const S extends ConfigSpec>(spec: S): S {
  return spec;
}

/** The flag name of an option: explicit, or the key in kebab-case (`brokerUrl` -> `broker-url`). */
export function flagOf(key: string, option: OptionSpec): string {
  return option.flag ?? key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
}

/** Environment variable names the spec reads, in declaration order (deploy files are checked against it). */
export function describeConfig(spec: ConfigSpec): string[] {
  return Object.values(spec).flatMap((option) => (option.env === undefined ? [] : [option.env]));
}
