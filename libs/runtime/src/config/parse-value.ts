import type { OptionSpec } from './spec.js';

/** Why a raw string is not a valid value; the loader adds the option name and its source. */
export class InvalidValue extends Error {}

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;
const DURATION_UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses "500ms", "5s", "2m", "1h", "7d" or a plain number of milliseconds into whole milliseconds. */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) throw new InvalidValue(`"${text}" is not a duration (use e.g. 500ms, 5s, 2m, 1h, 7d, or milliseconds)`);
  const unit = (match[2] ?? 'ms') as keyof typeof DURATION_UNIT_MS;
  return Math.round(Number(match[1]) * DURATION_UNIT_MS[unit]);
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export function parseBoolean(text: string): boolean {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new InvalidValue(`"${text}" is not a boolean (use true/false, 1/0, yes/no, on/off)`);
}

export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** Turns one raw value (string from argv/env, or list of strings from repeated flags) into the option's type. */
export function parseValue(option: OptionSpec, raw: string | readonly string[]): unknown {
  const text = typeof raw === 'string' ? raw : raw.join(',');
  switch (option.type) {
    case 'string':
      return checkChoices(text, option.choices);
    case 'url':
      if (!option.multiple) return checkUrl(text);
      return parseList(text).map(checkUrl).join(',');
    case 'number':
    case 'integer':
      return checkBounds(parseNumber(text, option.type === 'integer'), option.min, option.max, '');
    case 'duration':
      return checkBounds(parseDuration(text), option.min, option.max, 'ms');
    case 'boolean':
      return parseBoolean(text);
    case 'list': {
      const items = typeof raw === 'string' ? parseList(raw) : raw.flatMap(parseList);
      for (const item of items) checkChoices(item, option.choices);
      return items;
    }
  }
}

/** Checks a default given in the spec (typed already, but bounds and choices still apply). */
export function normaliseDefault(option: OptionSpec, value: unknown): unknown {
  if (typeof value === 'string') return parseValue(option, value);
  if (typeof value === 'number') return parseValue(option, String(value));
  if (Array.isArray(value)) return parseValue(option, value as string[]);
  if (typeof value === 'boolean' && option.type === 'boolean') return value;
  throw new InvalidValue(`default ${JSON.stringify(value)} does not fit type ${option.type}`);
}

function parseNumber(text: string, integer: boolean): number {
  const trimmed = text.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(value)) throw new InvalidValue(`"${text}" is not a number`);
  if (integer && !Number.isSafeInteger(value)) throw new InvalidValue(`"${text}" is not an integer`);
  return value;
}

function checkBounds(value: number, min: number | undefined, max: number | undefined, unit: string): number {
  if (min !== undefined && value < min) throw new InvalidValue(`${value}${unit} is below the minimum ${min}${unit}`);
  if (max !== undefined && value > max) throw new InvalidValue(`${value}${unit} is above the maximum ${max}${unit}`);
  return value;
}

function checkChoices(text: string, choices: readonly string[] | undefined): string {
  if (choices !== undefined && !choices.includes(text)) {
    throw new InvalidValue(`"${text}" is not one of ${choices.join(', ')}`);
  }
  return text;
}

function checkUrl(text: string): string {
  try {
    new URL(text);
  } catch {
    throw new InvalidValue(`"${text}" is not an absolute URL`);
  }
  return text;
}
