import type { Consumer, ConsumedMessage, PartitionSize, Topic } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import { assertPartitionInRange, type MetadataLookup } from '../cluster/metadata-lookup.js';
import type { ReplicaRouter } from './replica-router.js';

/** Largest number of messages one dequeue returns. */
export const MAX_MESSAGES_PER_DEQUEUE = 1000;

export interface ConsumeRequest {
  topic: string;
  consumerId: number;
  /** Read from this partition only (it must be one the consumer subscribed to). */
  partitionId?: number;
  /** 1 when absent or 0; capped at MAX_MESSAGES_PER_DEQUEUE. */
  maxMessages?: number;
  /** Makes a retry safe: the same id gets the same delivery again instead of the next one. */
  requestId?: string;
}

export interface ConsumerSize {
  size: bigint;
  partitions: PartitionSize[];
}

export interface ConsumerReadsOptions {
  lookup: MetadataLookup;
  replicas: ReplicaRouter;
  /** Called with what each consume returned (metrics, activity reports). */
  onConsumed?: (topic: Topic, consumerId: number, count: number) => void;
}

/**
 * The read path shared by REST and Connect: checks that the consumer exists and may read what it
 * asks for, then lets its replica pick the messages and commit the position.
 */
export class ConsumerReads {
  constructor(private readonly options: ConsumerReadsOptions) {}

  /** The next messages for the consumer; an empty list when nothing is pending. */
  async consume(request: ConsumeRequest): Promise<ConsumedMessage[]> {
    const { topic } = await this.authorize(request.topic, request.consumerId, request.partitionId);
    const maxMessages = Math.min(Math.max(request.maxMessages ?? 1, 1), MAX_MESSAGES_PER_DEQUEUE);
    let messages: ConsumedMessage[];
    try {
      const answer = await this.options.replicas.call(request.consumerId, (replica) =>
        replica.consume({
          consumerId: request.consumerId,
          topic: topic.name,
          partitionId: request.partitionId,
          maxMessages,
          requestId: request.requestId ?? '',
        }),
      );
      messages = answer.messages;
    } catch (error) {
      // A replica may say EMPTY instead of answering an empty list; both mean "nothing yet".
      if (error instanceof PartqError && error.code === 'EMPTY') messages = [];
      else throw error;
    }
    this.options.onConsumed?.(topic, request.consumerId, messages.length);
    return messages;
  }

  /** How many messages are still pending for the consumer, in all and per partition. */
  async size(topicName: string, consumerId: number): Promise<ConsumerSize> {
    const { topic } = await this.authorize(topicName, consumerId, undefined);
    const answer = await this.options.replicas.call(consumerId, (replica) => replica.size({ consumerId, topic: topic.name }));
    return { size: answer.size, partitions: answer.partitions };
  }

  private async authorize(topicName: string, consumerId: number, partitionId: number | undefined): Promise<{ topic: Topic; consumer: Consumer }> {
    const topic = await this.options.lookup.topic(topicName);
    const consumer = await this.options.lookup.consumer(consumerId);
    if (consumer.topicId !== topic.id) {
      throw new PartqError('PERMISSION_DENIED', `consumer ${consumerId} is not subscribed to topic '${topic.name}'`, {
        consumerId,
        topic: topic.name,
      });
    }
    if (partitionId !== undefined) {
      assertPartitionInRange(topic, partitionId);
      if (consumer.partitionId !== undefined && consumer.partitionId !== partitionId) {
        throw new PartqError(
          'PERMISSION_DENIED',
          `consumer ${consumerId} is subscribed to partition ${consumer.partitionId} of '${topic.name}', not partition ${partitionId}`,
          { consumerId, partitionId },
        );
      }
    }
    return { topic, consumer };
  }
}
