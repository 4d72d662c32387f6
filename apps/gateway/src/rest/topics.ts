import type { FastifyPluginAsync } from 'fastify';
import { Acks } from '@partq/proto';
import { MAX_PARTITIONS } from '../admin/topic-admin.js';
import { success } from './envelope.js';
import type { RestOptions } from './rest-options.js';
import { topicNameSchema } from './schemas.js';

interface CreateTopicBody {
  topic_name?: string;
  name?: string;
  partitions?: number;
  default_acks?: 'broker' | 'all';
}

interface PartitionsQuery {
  topic_name?: string;
  topic?: string;
}

/** GET /topics, POST /topics, GET /topics/partitions. */
export const topicRoutes: FastifyPluginAsync<RestOptions> = async (app, { services, bodyLimit }) => {
  app.get('/topics', async () => {
    const topics = await services.topics.list();
    return success({ topics: topics.map((topic) => topic.name) });
  });

  app.post<{ Body: CreateTopicBody }>(
    '/topics',
    {
      bodyLimit,
      schema: {
        body: {
          type: 'object',
          properties: {
            topic_name: topicNameSchema,
            name: topicNameSchema,
            partitions: { type: 'integer', minimum: 1, maximum: MAX_PARTITIONS },
            // What a produce that names no acks mode waits for on this topic.
            default_acks: { type: 'string', enum: ['broker', 'all'] },
          },
          anyOf: [{ required: ['topic_name'] }, { required: ['name'] }],
        },
      },
    },
    async (request, reply) => {
      const name = (request.body.topic_name ?? request.body.name)!;
      const acks = request.body.default_acks === 'all' ? Acks.ALL : request.body.default_acks === 'broker' ? Acks.BROKER : Acks.UNSPECIFIED;
      const { topic } = await services.topics.create(name, request.body.partitions, acks);
      reply.code(201);
      return success({
        message: `Topic '${topic.name}' created successfully`,
        topic: { name: topic.name, partitions: topic.partitionCount, default_acks: topic.defaultAcks === Acks.ALL ? 'all' : 'broker' },
      });
    },
  );

  app.get<{ Querystring: PartitionsQuery }>(
    '/topics/partitions',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { topic_name: topicNameSchema, topic: topicNameSchema },
          anyOf: [{ required: ['topic_name'] }, { required: ['topic'] }],
        },
      },
    },
    async (request) => {
      const { partitions } = await services.topics.partitions((request.query.topic_name ?? request.query.topic)!);
      return success({
        partitions: partitions.map((p) => ({
          partition_id: p.partitionId,
          broker_id: p.brokerId,
          start_offset: Number(p.startOffset),
          end_offset: Number(p.endOffset),
        })),
      });
    },
  );
};
