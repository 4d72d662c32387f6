import type { FastifyPluginAsync } from 'fastify';
import type { RestOptions } from './rest-options.js';
import { success } from './envelope.js';
import { arrayOf, idSchema, integerField, knownFieldsOnly, objectSchema, successSchema, topicNameSchema } from './schemas.js';

interface SizeQuery {
  topic: string;
  consumer_id: number;
}

const sizeAnswer = successSchema('Messages pending for the consumer', {
  size: integerField,
  partitions: arrayOf(objectSchema({ partition_id: integerField, size: integerField })),
});

/** GET /size: messages still pending for a consumer, in all and per partition. */
export const sizeRoutes: FastifyPluginAsync<RestOptions> = async (app, { services }) => {
  app.get<{ Querystring: SizeQuery }>(
    '/size',
    {
      schema: {
        querystring: knownFieldsOnly({ type: 'object', required: ['topic', 'consumer_id'], properties: { topic: topicNameSchema, consumer_id: idSchema } }),
        response: { 200: sizeAnswer },
      },
    },
    async (request) => {
      const { size, partitions } = await services.reads.size(request.query.topic, request.query.consumer_id);
      return success({
        size: Number(size),
        partitions: partitions.map((p) => ({ partition_id: p.partitionId, size: Number(p.size) })),
      });
    },
  );
};
