import type { ServiceImpl } from '@connectrpc/connect';
import type { ConsumerService } from '@partq/proto';
import { relayedDelivery } from '../consume/relayed-delivery.js';
import type { GatewayServices } from '../gateway-services.js';

/** ConsumerService (client.proto): the same calls as the REST consumer and size routes. */
export function consumerServiceImpl(services: GatewayServices): ServiceImpl<typeof ConsumerService> {
  return {
    async listTopics() {
      const topics = await services.topics.list();
      return { topics: topics.map((topic) => topic.name) };
    },
    async register(request) {
      const { consumer } = await services.registrations.registerConsumer(request.topic, request.partitionId, request.fromEarliest);
      return { consumerId: consumer.id };
    },
    /** Up to max_messages (0 means 1); an empty list when nothing is pending. */
    async dequeue(request) {
      const messages = await services.reads.consume({
        topic: request.topic,
        consumerId: request.consumerId,
        partitionId: request.partitionId,
        maxMessages: request.maxMessages,
        requestId: request.requestId,
      });
      return { messages };
    },
    /** The consumer's messages as they arrive; see ConsumerReads.stream. */
    async *consume(request, context) {
      const deliveries = services.reads.stream(
        {
          topic: request.topic,
          consumerId: request.consumerId,
          partitionId: request.partitionId,
          maxMessages: request.maxMessages,
          streamId: request.streamId,
          resume: request.resume,
        },
        context.signal,
      );
      for await (const delivery of deliveries) yield relayedDelivery(delivery);
    },
    async release(request) {
      await services.reads.release({ topic: request.topic, consumerId: request.consumerId, streamId: request.streamId, next: request.next });
      return {};
    },
    async checkpoint(request) {
      await services.reads.checkpoint({ topic: request.topic, consumerId: request.consumerId, streamId: request.streamId, next: request.next });
      return {};
    },
    async size(request) {
      return services.reads.size(request.topic, request.consumerId);
    },
  };
}
