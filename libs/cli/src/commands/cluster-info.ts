import { getJson } from '../gateway-rest.js';
import type { Command, CommandContext } from './command.js';

/** Prints a REST resource of the gateway as indented JSON. */
async function printResource({ gateway, io, out }: CommandContext, path: string): Promise<void> {
  const answer = await getJson(gateway.urls[0]!, path, {}, { signal: io.signal, timeoutMs: gateway.timeoutMs });
  await out.line(JSON.stringify(answer, null, 2));
}

export const brokers: Command = {
  words: ['brokers'],
  arguments: [],
  options: [],
  summary: 'the brokers as the gateway knows them (JSON)',
  details: "Prints the gateway's GET /brokers: each broker's id, address and state.",
  run: (context) => printResource(context, 'brokers'),
};

export const health: Command = {
  words: ['health'],
  arguments: [],
  options: [],
  summary: "the cluster's health tables (JSON)",
  details: "Prints the gateway's GET /health: last seen of every broker, producer, consumer and replica.",
  run: (context) => printResource(context, 'health'),
};
