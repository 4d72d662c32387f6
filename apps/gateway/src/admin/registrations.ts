import type { Client } from '@connectrpc/connect';
import type { MetadataView } from '@partq/cluster';
import type { Consumer, ManagerService, Producer, Topic } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import { assertPartitionInRange, assertTopicName, type MetadataLookup } from '../cluster/metadata-lookup.js';
import { MANAGER_CALL_TIMEOUT_MS, managerCall } from '../cluster/manager-call.js';

export interface RegistrationsOptions {
  manager: Client<typeof ManagerService>;
  view: MetadataView;
  lookup: MetadataLookup;
}

/**
 * Producer and consumer registration. The manager assigns the ids; what it answers goes into the
 * view at once, so the very next produce or consume through this gateway finds the new id.
 */
export class Registrations {
  constructor(private readonly options: RegistrationsOptions) {}

  /** Creates the topic when it does not exist (with the cluster's default partition count). */
  async registerProducer(topicName: string, partitionId?: number): Promise<{ producer: Producer; topic: Topic; topicCreated: boolean }> {
    assertTopicName(topicName);
    assertPartitionId(partitionId);
    const known = this.options.view.topicByName(topicName);
    if (known && partitionId !== undefined) assertPartitionInRange(known, partitionId);

    const answer = await managerCall(() =>
      this.options.manager.registerProducer({ topic: topicName, partitionId }, { timeoutMs: MANAGER_CALL_TIMEOUT_MS }),
    );
    if (!answer.producer || !answer.topic) throw new PartqError('INTERNAL', 'the manager registered the producer but did not describe it');
    this.options.view.upsert({ topics: [answer.topic], partitions: answer.partitions, producers: [answer.producer] });
    return { producer: answer.producer, topic: answer.topic, topicCreated: answer.topicCreated };
  }

  /** The consumer starts at the end of the log, or at the earliest retained offset with `fromEarliest`. */
  async registerConsumer(topicName: string, partitionId: number | undefined, fromEarliest: boolean): Promise<{ consumer: Consumer; topic: Topic }> {
    assertPartitionId(partitionId);
    const topic = await this.options.lookup.topic(topicName);
    if (partitionId !== undefined) assertPartitionInRange(topic, partitionId);

    const answer = await managerCall(() =>
      this.options.manager.registerConsumer({ topic: topicName, partitionId, fromEarliest }, { timeoutMs: MANAGER_CALL_TIMEOUT_MS }),
    );
    if (!answer.consumer) throw new PartqError('INTERNAL', 'the manager registered the consumer but did not describe it');
    this.options.view.upsert({ topics: answer.topic ? [answer.topic] : [], consumers: [answer.consumer] });
    return { consumer: answer.consumer, topic: answer.topic ?? topic };
  }
}

function assertPartitionId(partitionId: number | undefined): void {
  if (partitionId !== undefined && (!Number.isInteger(partitionId) || partitionId < 0)) {
    throw new PartqError('INVALID_ARGUMENT', 'partition_id must be a non-negative integer', { partitionId });
  }
}
