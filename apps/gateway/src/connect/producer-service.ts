import type { ServiceImpl } from '@connectrpc/connect';
import type { ProducerService } from '@partq/proto';
import type { GatewayServices } from '../gateway-services.js';

/** ProducerService (client.proto): the same calls as the REST producer and topic routes. */
export function producerServiceImpl(services: GatewayServices): ServiceImpl<typeof ProducerService> {
  return {
    async createTopic(request) {
      // proto3 cannot tell 0 from unset: 0 asks for the cluster's default count.
      const { topic } = await services.topics.create(request.name, request.partitions === 0 ? undefined : request.partitions, request.defaultAcks);
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
      const results = await services.producer.produce({
        topic: request.topic,
        producerId: request.producerId,
        acks: request.acks,
        messages: request.messages.map((message) => ({
          payload: message.payload,
          key: message.key,
          partitionId: message.partitionId,
          sequence: message.sequence,
        })),
      });
      return { results };
    },
  };
}
