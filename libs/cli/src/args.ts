import { parseArgs } from 'node:util';
import { usageError } from './cli-error.js';

/** Every option any command takes; each command says which of them it accepts. */
export const OPTIONS = {
  url: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  partitions: { type: 'string' },
  'retention-ms': { type: 'string' },
  'retention-bytes': { type: 'string' },
  file: { type: 'string' },
  key: { type: 'string' },
  partition: { type: 'string' },
  acks: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  follow: { type: 'boolean', short: 'f' },
  from: { type: 'string' },
  'consumer-id': { type: 'string' },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Options every command accepts. */
export const GLOBAL_OPTIONS: readonly OptionName[] = ['url', 'timeout', 'help', 'version'];

export type OptionValues = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export interface ParsedArgs {
  positionals: string[];
  values: OptionValues;
  /** Options in the order given, to name the first one a command does not take. */
  given: OptionName[];
}

/** Splits argv into words and options; an unknown option or a missing value is a usage error. */
export function parseCliArgs(argv: readonly string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    // Node's first sentence says it all ("Unknown option '--x'", "Option '--url <value>' argument missing").
    const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
    throw usageError(message.split(/\.\s/)[0]!.trim());
  }
  const given = parsed.tokens.flatMap((t) => (t.kind === 'option' ? [t.name as OptionName] : []));
  return { positionals: parsed.positionals, values: parsed.values as OptionValues, given };
}

/** An integer option in [min, max], or undefined when not given. */
export function integerOption(values: OptionValues, name: OptionName, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(`--${name} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got "${String(raw)}"`);
  }
  return value;
}

/** A string option that must be one of `choices`, or undefined when not given. */
export function choiceOption<T extends string>(values: OptionValues, name: OptionName, choices: readonly T[]): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    throw usageError(`--${name} must be ${choices.map((c) => `"${c}"`).join(' or ')}, got "${String(raw)}"`);
  }
  return raw as T;
}
