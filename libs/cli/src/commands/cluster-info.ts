import type { Command } from './command.js';
import { printResource } from './print-resource.js';

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
