import { DEFAULT_TIMEOUT_MS, DEFAULT_URL } from './gateway-address.js';
import type { Command } from './commands/index.js';

export function commandName(command: Command): string {
  return command.words.join(' ');
}

export function usageLine(command: Command): string {
  const options = command.options.length > 0 ? ' [options]' : '';
  return `Usage: partq ${[...command.words, ...command.arguments].join(' ')}${options}`;
}

const GLOBAL_OPTIONS_HELP = [
  'Global options:',
  `  --url <url>       gateway URL; several, comma-separated, for failover (env PARTQ_URL; default ${DEFAULT_URL})`,
  `  --timeout <ms>    how long a call keeps retrying before it fails (default ${DEFAULT_TIMEOUT_MS})`,
  '  -h, --help        this help; `partq <command> --help` for a command',
  '  -V, --version     print the version',
].join('\n');

export function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => [...c.words, ...c.arguments].join(' ').length));
  return [
    'partq: the command line of a partq cluster (topics, produce, consume, size, brokers, health)',
    '',
    'Usage: partq <command> [arguments] [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${[...c.words, ...c.arguments].join(' ').padEnd(width)}   ${c.summary}`),
    '',
    GLOBAL_OPTIONS_HELP,
    '',
    'Exit status: 0 ok, 1 error, 2 usage error.',
    '',
    'Examples:',
    '  partq topics create orders --partitions 3',
    '  seq 1000 | partq produce orders',
    '  partq consume orders --from earliest | head',
    '  partq consume orders --follow --from latest',
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  return [usageLine(command), '', command.summary, '', command.details, '', GLOBAL_OPTIONS_HELP, ''].join('\n');
}
