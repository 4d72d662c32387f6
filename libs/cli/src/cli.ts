import { ConsumerError } from '@partq/consumer';
import { ProducerError } from '@partq/producer';
import { GLOBAL_OPTIONS, parseCliArgs } from './args.js';
import { CliError, EXIT_ERROR, EXIT_OK, EXIT_USAGE, usageError, type ExitCode } from './cli-error.js';
import { COMMANDS, type Command } from './commands/index.js';
import { gatewayAddress } from './gateway-address.js';
import { commandHelp, commandName, generalHelp, usageLine } from './help.js';
import { LineOutput, type CliIo } from './io.js';
import { cliVersion } from './version.js';

/** The command whose words begin `positionals` (`partq help <command>` names one too). */
function findCommand(positionals: readonly string[]): Command | undefined {
  return COMMANDS.find((c) => c.words.every((word, i) => positionals[i] === word));
}

function unknownCommand(positionals: readonly string[]): CliError {
  const [first] = positionals;
  const group = COMMANDS.filter((c) => c.words.length > 1 && c.words[0] === first);
  if (group.length > 0) {
    const wanted = positionals[1] === undefined ? 'needs' : `has no "${positionals[1]}"; it takes`;
    return usageError(`${first} ${wanted} a subcommand: ${group.map((c) => c.words[1]).join(', ')}`);
  }
  return usageError(`unknown command "${first}"`);
}

/** Runs one invocation of `partq` and tells the exit status. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let command: Command | undefined;
  try {
    const { positionals, values, given } = parseCliArgs(argv);
    if (values.version) {
      io.stdout.write(`${cliVersion()}\n`);
      return EXIT_OK;
    }
    const asksHelp = positionals[0] === 'help';
    const words = asksHelp ? positionals.slice(1) : positionals;
    command = findCommand(words);
    if (!command) {
      if (words.length === 0) {
        (values.help || asksHelp ? io.stdout : io.stderr).write(generalHelp(COMMANDS));
        return values.help || asksHelp ? EXIT_OK : EXIT_USAGE;
      }
      throw unknownCommand(words);
    }
    if (values.help || asksHelp) {
      io.stdout.write(commandHelp(command));
      return EXIT_OK;
    }

    const foreign = given.find((name) => !GLOBAL_OPTIONS.includes(name) && !command!.options.includes(name));
    if (foreign) throw usageError(`--${foreign} is not an option of "${commandName(command)}"`);
    const args = positionals.slice(command.words.length);
    if (args.length < command.arguments.length) throw usageError(`missing ${command.arguments.slice(args.length).join(' ')}`);
    if (args.length > command.arguments.length) throw usageError(`unexpected argument "${args[command.arguments.length]}"`);

    const gateway = gatewayAddress(values, io.env);
    await command.run({ args, values, gateway, io, out: new LineOutput(io.stdout) });
    return EXIT_OK;
  } catch (error) {
    return report(error, command, io);
  }
}

function report(error: unknown, command: Command | undefined, io: CliIo): ExitCode {
  const say = (text: string) => io.stderr.write(`partq: ${text}\n`);
  if (error instanceof CliError) {
    say(error.message);
    if (error.code === 'USAGE') {
      io.stderr.write(command ? `${usageLine(command)}\nRun "partq ${commandName(command)} --help" for more.\n` : 'Run "partq --help" for usage.\n');
    }
    return error.exitCode;
  }
  if (error instanceof ProducerError || error instanceof ConsumerError) {
    say(error.code === 'ABORTED' && io.signal.aborted ? 'interrupted' : `${error.message} (${error.code})`);
    return EXIT_ERROR;
  }
  say(error instanceof Error ? error.message : String(error));
  return EXIT_ERROR;
}

export { EXIT_ERROR, EXIT_OK, EXIT_USAGE };
