import { flagOf, type ConfigSpec, type OptionSpec } from './spec.js';

/** The --help text: every option with its flag, value type, env variable, default and description. */
export function formatHelp(spec: ConfigSpec, programName = 'partq'): string {
  const lines = [`Usage: ${programName} [options]`, '', 'Options (a flag overrides its environment variable, which overrides the default):'];
  for (const [key, option] of Object.entries(spec)) {
    const flag = flagOf(key, option);
    lines.push(`  --${flag}${option.type === 'boolean' ? `, --no-${flag}` : ` <${valueHint(option)}>`}`);
    lines.push(`      ${option.description}`);
    const facts = [
      option.env === undefined ? undefined : `env: ${option.env}`,
      option.default === undefined ? undefined : `default: ${formatDefault(option.default)}`,
      option.required ? 'required' : undefined,
      boundsOf(option),
      'choices' in option && option.choices ? `one of: ${option.choices.join(', ')}` : undefined,
    ].filter((fact): fact is string => fact !== undefined);
    if (facts.length > 0) lines.push(`      ${facts.join('   ')}`);
  }
  lines.push('  --help, -h', '      Print this help and exit.');
  return `${lines.join('\n')}\n`;
}

function valueHint(option: OptionSpec): string {
  switch (option.type) {
    case 'duration':
      return 'duration: 500ms|5s|2m|1h|7d';
    case 'list':
      return 'a,b,...';
    default:
      return option.type;
  }
}

function formatDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(empty)' : value.join(',');
  return String(value);
}

function boundsOf(option: OptionSpec): string | undefined {
  if (option.type !== 'number' && option.type !== 'integer' && option.type !== 'duration') return undefined;
  const unit = option.type === 'duration' ? 'ms' : '';
  if (option.min !== undefined && option.max !== undefined) return `range: ${option.min}${unit}..${option.max}${unit}`;
  if (option.min !== undefined) return `min: ${option.min}${unit}`;
  if (option.max !== undefined) return `max: ${option.max}${unit}`;
  return undefined;
}
