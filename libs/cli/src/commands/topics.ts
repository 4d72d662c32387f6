import { Producer } from '@partq/producer';
import { integerOption } from '../args.js';
import { clientOptions } from './client-options.js';
import type { Command } from './command.js';
import { printResource } from './print-resource.js';

export const topicsList: Command = {
  words: ['topics', 'list'],
  arguments: [],
  options: [],
  summary: 'list the topics, one per line',
  details: 'Prints every topic name, sorted, one per line.',
  async run({ gateway, io, out }) {
    await using producer = new Producer(clientOptions(gateway));
    const topics = await producer.listTopics({ signal: io.signal });
    for (const topic of [...topics].sort()) await out.line(topic);
  },
};

export const topicsDescribe: Command = {
  words: ['topics', 'describe'],
  arguments: ['<name>'],
  options: [],
  summary: "a topic's settings and partitions (JSON)",
  details: [
    "Prints the gateway's GET /topics/partitions: the topic's partition count, default acks and",
    'time and size limits (null: none), and per partition its owner, first retained offset, end',
    'offset and the bytes of records the Central DB holds.',
  ].join('\n'),
  run: (context) => printResource(context, 'topics/partitions', { topic_name: (context.args as [string])[0] }),
};

export const topicsCreate: Command = {
  words: ['topics', 'create'],
  arguments: ['<name>'],
  options: ['partitions', 'retention-ms', 'retention-bytes'],
  summary: 'create a topic',
  details: [
    'Creates the topic; an existing one is an error (ALREADY_EXISTS).',
    '',
    'Options:',
    "  --partitions <n>        number of partitions, 1-1024 (default: the cluster's, 3 unless configured)",
    '  --retention-ms <ms>     delete records older than this, consumed or not (default: no time limit)',
    '  --retention-bytes <n>   keep at most this many bytes of records per partition (default: no size limit)',
  ].join('\n'),
  async run({ args, values, gateway, io, out }) {
    const [name] = args as [string];
    const partitions = integerOption(values, 'partitions', 1, 1024);
    const retentionMs = integerOption(values, 'retention-ms', 1);
    const retentionBytes = integerOption(values, 'retention-bytes', 1);
    await using producer = new Producer(clientOptions(gateway));
    await producer.createTopic(name, {
      signal: io.signal,
      ...(partitions === undefined ? {} : { partitions }),
      ...(retentionMs === undefined ? {} : { retentionMs }),
      ...(retentionBytes === undefined ? {} : { retentionBytes }),
    });
    await out.line(`created topic ${name}`);
  },
};
