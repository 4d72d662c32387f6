import type { OptionName, OptionValues } from '../args.js';
import type { GatewayAddress } from '../gateway-address.js';
import type { CliIo, LineOutput } from '../io.js';

/** What a command runs with. */
export interface CommandContext {
  /** The words after the command's name, one per declared argument. */
  args: string[];
  values: OptionValues;
  gateway: GatewayAddress;
  io: CliIo;
  /** stdout, one line at a time, with backpressure. */
  out: LineOutput;
}

export interface Command {
  /** The words that name it, e.g. ['topics', 'create']. */
  readonly words: readonly string[];
  /** Its arguments in usage form, e.g. ['<topic>']. */
  readonly arguments: readonly string[];
  /** The options it takes besides the global ones. */
  readonly options: readonly OptionName[];
  /** One line for the command list. */
  readonly summary: string;
  /** What `partq <command> --help` adds below the usage line. */
  readonly details: string;
  /** Resolves when done; throws a CliError, ProducerError or ConsumerError on failure. */
  run(context: CommandContext): Promise<void>;
}
