import { Consumer, ConsumerError } from '@partq/consumer';
import { choiceOption, integerOption } from '../args.js';
import { CliError } from '../cli-error.js';
import { messageJson } from '../message-json.js';
import { clientOptions } from './client-options.js';
import type { Command } from './command.js';

/** Messages fetched per call. */
const BATCH = 500;

export const consume: Command = {
  words: ['consume'],
  arguments: ['<topic>'],
  options: ['follow', 'from', 'partition'],
  summary: 'print messages as JSON lines',
  details: [
    'Registers a new consumer of the topic and prints each message as one JSON line:',
    '  {"topic":"orders","partition":0,"offset":0,"value":"hello","timestamp":"2025-01-01T12:00:00.000Z"}',
    '("key" when the message has one; value and key in base64 with "encoding":"base64" when not UTF-8).',
    'Without --follow it stops once nothing is pending; with it, it waits for new messages until Ctrl-C.',
    '',
    'Options:',
    '  -f, --follow               keep printing new messages until interrupted',
    '  --from earliest|latest     start at the oldest retained message (default) or after the last one',
    '  --partition <n>            read this partition only',
  ].join('\n'),
  async run({ args, values, gateway, io, out }) {
    const [topic] = args as [string];
    const from = choiceOption(values, 'from', ['earliest', 'latest'] as const) ?? 'earliest';
    const partition = integerOption(values, 'partition', 0, 0x7fffffff);
    const follow = values.follow === true;

    await using consumer = new Consumer({ ...clientOptions(gateway), maxMessages: BATCH, pollIntervalMs: 200 });
    if (follow) {
      consumer.on('disconnect', ({ url, error }) => io.stderr.write(`lost ${url} (${error.code}); retrying\n`));
      consumer.on('reconnect', ({ url }) => io.stderr.write(`reconnected to ${url}\n`));
    }
    await consumer.register(topic, { from, signal: io.signal, ...(partition === undefined ? {} : { partition }) });

    if (follow) {
      try {
        for await (const message of consumer.messages(topic, { signal: io.signal })) {
          await out.line(JSON.stringify(messageJson(message)));
          if (out.closed) return;
        }
      } catch (error) {
        // Ctrl-C is how a follow ends.
        if (error instanceof ConsumerError && error.code === 'ABORTED' && io.signal.aborted) return;
        throw error;
      }
      return;
    }
    for (;;) {
      const batch = await consumer.poll(topic, { maxMessages: BATCH, signal: io.signal });
      if (batch.length === 0) return;
      for (const message of batch) await out.line(JSON.stringify(messageJson(message)));
      if (out.closed) return;
      if (io.signal.aborted) throw new CliError('INTERRUPTED', 'interrupted');
    }
  },
};
