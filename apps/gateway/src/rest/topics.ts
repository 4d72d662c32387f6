import type { FastifyPluginAsync } from 'fastify';
import { Acks } from '@partq/proto';
import { MAX_PARTITIONS } from '../admin/topic-admin.js';
import { success } from './envelope.js';
import type { RestOptions } from './rest-options.js';
import { retentionLimitSchema, topicAnswer, topicSchema } from './topic-answer.js';
import { arrayOf, integerField, knownFieldsOnly, objectSchema, stringField, successSchema, topicNameSchema } from './schemas.js';

interface CreateTopicBody {
  topic_name?: string;
  name?: string;
  partitions?: number;
  default_acks?: 'broker' | 'all';
  retention_ms?: number;
  retention_bytes?: number;
}

interface PartitionsQuery {
  topic_name?: string;
  topic?: string;
}

const topicListAnswer = successSchema('Topic names, oldest first', { topics: arrayOf(stringField) });

const createdAnswer = successSchema('The topic as created', { message: stringField, topic: topicSchema });



const partitionsAnswer = successSchema('The topic, and one entry per partition, by partition id', {
  topic: topicSchema,
  partitions: arrayOf(
    objectSchema({
      partition_id: integerField,
      broker_id: { type: 'integer', description: 'The owning broker; 0 while unassigned' },
      start_offset: { type: 'integer', description: 'The first retained offset' },
      end_offset: { type: 'integer', description: 'The next offset to be written, as the owning broker reports it' },
      stored_bytes: { type: 'integer', description: "Bytes of records held in the Central DB (what the topic's retention_bytes limits)" },
    }),
  ),
});

/** GET /topics, POST /topics, GET /topics/partitions. */
export const topicRoutes: FastifyPluginAsync<RestOptions> = async (app, { services, bodyLimit }) => {
  app.get('/topics', { schema: { response: { 200: topicListAnswer } } }, async () => {
    const topics = await services.topics.list();
    return success({ topics: topics.map((topic) => topic.name) });
  });

  app.post<{ Body: CreateTopicBody }>(
    '/topics',
    {
      bodyLimit,
      schema: {
        body: knownFieldsOnly({
          type: 'object',
          properties: {
            topic_name: topicNameSchema,
            name: topicNameSchema,
            partitions: { type: 'integer', minimum: 1, maximum: MAX_PARTITIONS },
            // What a produce that names no acks mode waits for on this topic.
            default_acks: { type: 'string', enum: ['broker', 'all'] },
            retention_ms: retentionLimitSchema('Delete records older than this many ms, consumed or not (Kafka: retention.ms); unset: no time limit'),
            retention_bytes: retentionLimitSchema(
              'Keep at most this many bytes of records per partition, consumed or not (Kafka: retention.bytes); unset: no size limit',
            ),
          },
          anyOf: [{ required: ['topic_name'] }, { required: ['name'] }],
        }),
        response: { 201: createdAnswer },
      },
    },
    async (request, reply) => {
      const name = (request.body.topic_name ?? request.body.name)!;
      const acks = request.body.default_acks === 'all' ? Acks.ALL : request.body.default_acks === 'broker' ? Acks.BROKER : Acks.UNSPECIFIED;
      const { partitions, retention_ms: retentionMs, retention_bytes: retentionBytes } = request.body;
      const { topic } = await services.topics.create(name, {
        partitions,
        defaultAcks: acks,
        retentionMs: retentionMs === undefined ? undefined : BigInt(retentionMs),
        retentionBytes: retentionBytes === undefined ? undefined : BigInt(retentionBytes),
      });
      reply.code(201);
      return success({ message: `Topic '${topic.name}' created successfully`, topic: topicAnswer(topic) });
    },
  );

  app.get<{ Querystring: PartitionsQuery }>(
    '/topics/partitions',
    {
      schema: {
        querystring: knownFieldsOnly({
          type: 'object',
          properties: { topic_name: topicNameSchema, topic: topicNameSchema },
          anyOf: [{ required: ['topic_name'] }, { required: ['topic'] }],
        }),
        response: { 200: partitionsAnswer },
      },
    },
    async (request) => {
      const { topic, partitions } = await services.topics.partitions((request.query.topic_name ?? request.query.topic)!);
      return success({
        topic: topicAnswer(topic),
        partitions: partitions.map((p) => ({
          partition_id: p.partitionId,
          broker_id: p.brokerId,
          start_offset: Number(p.startOffset),
          end_offset: Number(p.endOffset),
          stored_bytes: Number(p.storedBytes),
        })),
      });
    },
  );
};
