import { integerOption } from '../args.js';
import { getJson } from '../gateway-rest.js';
import type { Command } from './command.js';

interface PartitionRange {
  start_offset: number;
  end_offset: number;
}

export const size: Command = {
  words: ['size'],
  arguments: ['<topic>'],
  options: ['consumer-id'],
  summary: 'how many messages the topic holds (or a consumer has pending)',
  details: [
    'Prints one number: the messages the topic still retains, over all partitions (end offset',
    'minus start offset of each). With --consumer-id, the messages still pending for that consumer.',
    '',
    'Options:',
    '  --consumer-id <id>   count what this consumer has not read yet',
  ].join('\n'),
  async run({ args, values, gateway, io, out }) {
    const [topic] = args as [string];
    const consumerId = integerOption(values, 'consumer-id', 1);
    const call = { signal: io.signal, timeoutMs: gateway.timeoutMs };
    const url = gateway.urls[0]!;
    if (consumerId !== undefined) {
      const answer = await getJson(url, 'size', { topic, consumer_id: String(consumerId) }, call);
      await out.line(String(answer.size));
      return;
    }
    const answer = await getJson(url, 'topics/partitions', { topic_name: topic }, call);
    const partitions = answer.partitions as PartitionRange[];
    await out.line(String(partitions.reduce((sum, p) => sum + Math.max(0, p.end_offset - p.start_offset), 0)));
  },
};
