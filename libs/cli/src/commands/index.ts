import { brokers, health } from './cluster-info.js';
import type { Command } from './command.js';
import { consume } from './consume.js';
import { produce } from './produce.js';
import { size } from './size.js';
import { topicsCreate, topicsDescribe, topicsList } from './topics.js';

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [topicsList, topicsCreate, topicsDescribe, produce, consume, size, brokers, health];

export type { Command, CommandContext } from './command.js';
