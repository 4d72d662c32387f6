import type { ServiceImpl } from '@connectrpc/connect';
import { decodeSendMessageBatch, WireFormatError, type ProducerService, type SendRequest } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import type { GatewayServices } from '../gateway-services.js';
import type { OutgoingMessage } from '../produce/outgoing-message.js';

/** ProducerService (client.proto): the same calls as the REST producer and topic routes. */
export function producerServiceImpl(services: GatewayServices): ServiceImpl<typeof ProducerService> {
  return {
    async createTopic(request) {
      const { topic } = await services.topics.create(request.name, {
        // proto3 cannot tell 0 from unset: 0 asks for the cluster's default count.
        partitions: request.partitions === 0 ? undefined : request.partitions,
        defaultAcks: request.defaultAcks,
        retentionMs: request.retentionMs,
        retentionBytes: request.retentionBytes,
      });
      return { topic };
    },
    async listTopics() {
      const topics = await services.topics.list();
      return { topics: topics.map((topic) => topic.name) };
    },
    async register(request) {
      const { producer, topic } = await services.registrations.registerProducer(request.topic, request.partitionId);
      return { producerId: producer.id, partitionCount: topic.partitionCount };
    },
    async send(request) {
      // @partq/producer sends messages_data (hand-encoded) and gets the packed answer; other clients
      // send SendMessage objects and get a SendResult each.
      const packed = request.messages.length === 0 && request.messagesData.byteLength > 0;
      const results = await services.producer.produce({
        topic: request.topic,
        producerId: request.producerId,
        acks: request.acks,
        messages: packed ? packedMessages(request) : request.messages.map((message) => ({
          payload: message.payload,
          key: message.key,
          partitionId: message.partitionId,
          sequence: message.sequence,
        })),
      });
      if (!packed) return { results };
      const duplicateIndexes: number[] = [];
      results.forEach((result, index) => {
        if (result.duplicate) duplicateIndexes.push(index);
      });
      return { partitionIds: results.map((result) => result.partitionId), offsets: results.map((result) => result.offset), duplicateIndexes };
    },
  };
}

function packedMessages(request: SendRequest): OutgoingMessage[] {
  try {
    return decodeSendMessageBatch(request.messagesData);
  } catch (error) {
    if (error instanceof WireFormatError) throw new PartqError('INVALID_ARGUMENT', `send messages_data: ${error.message}`, { reason: error.code });
    throw error;
  }
}
