import type { FastifyPluginAsync } from 'fastify';
import type { Broker, PartitionMove } from '@partq/proto';
import { brokerStateName } from '../admin/health-report.js';
import type { RestOptions } from './rest-options.js';
import { success } from './envelope.js';
import { arrayOf, idSchema, integerField, knownFieldsOnly, objectSchema, stringField, successSchema, topicNameSchema } from './schemas.js';
import { retentionLimitSchema, topicAnswer, topicSchema } from './topic-answer.js';

const brokerFields = {
  broker_id: integerField,
  address: stringField,
  state: stringField,
  drain_reason: {
    type: ['string', 'null'],
    enum: ['operator', 'disk_full', null],
    description: 'Why a draining broker drains: an operator asked, or its disk filled up (the manager then resumes it once the disk has had room for a while); null when not draining',
  },
  last_heartbeat_ms: integerField,
};

const brokersAnswer = successSchema('Every broker with the partitions it owns', {
  brokers: arrayOf(
    objectSchema({
      ...brokerFields,
      disk_full: { type: 'boolean', description: 'Its last heartbeat said its disk is full: the manager drains it, and resumes it once its disk has had room for a while' },
      partitions: arrayOf(objectSchema({ topic: stringField, partition_id: integerField, epoch: integerField, high_watermark: integerField })),
    }),
  ),
});

const resumedAnswer = successSchema('The broker as it is now', { broker: objectSchema(brokerFields) });

const movesAnswer = successSchema('The partition moves made', {
  moves: arrayOf(
    objectSchema(
      {
        topic_id: integerField,
        partition_id: integerField,
        from_broker_id: { type: ['integer', 'null'], description: 'null when the partition had no owner' },
        to_broker_id: integerField,
        epoch: { type: 'integer', description: 'The new epoch; 0 when the move failed' },
        error: { type: 'string', description: 'Why the move failed; the partition stayed where it was' },
      },
      ['error'],
    ),
  ),
});

const healthAnswer = successSchema("The manager's health entries, unfiltered", {
  entries: arrayOf(
    objectSchema({
      kind: {
        type: 'string',
        enum: ['broker', 'producer', 'consumer', 'replica', 'sync'],
        description: "sync: a broker whose syncs to PostgreSQL keep failing (detail says why, last_seen_ms is its last successful sync)",
      },
      id: integerField,
      status: stringField,
      last_seen_ms: integerField,
      detail: stringField,
    }),
  ),
});

/** PATCH /admin/topics/:topic_name: a limit absent stays, null removes it. */
interface TopicLimitsBody {
  retention_ms?: number | null;
  retention_bytes?: number | null;
}

const topicLimitsAnswer = successSchema('The topic with its limits as they are now', { topic: topicSchema });

/** A limit of the body as UpdateTopic carries it: unset to keep, 0 to remove. */
function limitChange(value: number | null | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  return value === null ? 0n : BigInt(value);
}

function brokerToJson(broker: Broker) {
  return {
    broker_id: broker.id,
    address: broker.address,
    state: brokerStateName(broker.state),
    drain_reason: broker.drainReason || null,
    last_heartbeat_ms: Number(broker.lastHeartbeatMs),
  };
}

function moveToJson(move: PartitionMove) {
  return {
    topic_id: move.topicId,
    partition_id: move.partitionId,
    from_broker_id: move.fromBrokerId || null,
    to_broker_id: move.toBrokerId,
    epoch: move.epoch,
    ...(move.error ? { error: move.error } : {}),
  };
}

/** /admin/*: brokers with their partitions, drain and resume, rebalance, topic limits, health tables. Every call needs the admin token. */
export const adminRoutes: FastifyPluginAsync<RestOptions> = async (app, { services, bodyLimit }) => {
  app.addHook('onRequest', async (request) => services.adminToken.check(request.headers.authorization));

  app.get('/admin/brokers', { schema: { response: { 200: brokersAnswer } } }, async () =>
    success({
      brokers: (await services.admin.brokers()).map(({ broker, partitions, diskFull }) => ({
        ...brokerToJson(broker!),
        disk_full: diskFull,
        partitions: partitions.map((p) => ({
          topic: services.view.topicById(p.topicId)?.name ?? '',
          partition_id: p.partitionId,
          epoch: p.epoch,
          high_watermark: Number(p.highWatermark),
        })),
      })),
    }),
  );

  app.post<{ Params: { broker_id: number } }>(
    '/admin/brokers/:broker_id/drain',
    { schema: { params: { type: 'object', required: ['broker_id'], properties: { broker_id: idSchema } }, response: { 200: movesAnswer } } },
    async (request) => {
      const moves = await services.admin.drain(request.params.broker_id);
      return success({ moves: moves.map(moveToJson) });
    },
  );

  app.post<{ Params: { broker_id: number } }>(
    '/admin/brokers/:broker_id/resume',
    { schema: { params: { type: 'object', required: ['broker_id'], properties: { broker_id: idSchema } }, response: { 200: resumedAnswer } } },
    async (request) => success({ broker: brokerToJson(await services.admin.resume(request.params.broker_id)) }),
  );

  app.post('/admin/rebalance', { schema: { response: { 200: movesAnswer } } }, async () => {
    const moves = await services.admin.rebalance();
    return success({ moves: moves.map(moveToJson) });
  });

  app.patch<{ Params: { topic_name: string }; Body: TopicLimitsBody }>(
    '/admin/topics/:topic_name',
    {
      bodyLimit,
      schema: {
        params: { type: 'object', required: ['topic_name'], properties: { topic_name: topicNameSchema } },
        body: knownFieldsOnly({
          type: 'object',
          properties: {
            retention_ms: retentionLimitSchema('The new time limit in ms; null removes it', { nullable: true }),
            retention_bytes: retentionLimitSchema('The new size limit per partition in bytes; null removes it', { nullable: true }),
          },
        }),
        response: { 200: topicLimitsAnswer },
      },
    },
    async (request) => {
      const { retention_ms: ms, retention_bytes: bytes } = request.body;
      const topic = await services.topics.updateLimits(request.params.topic_name, { retentionMs: limitChange(ms), retentionBytes: limitChange(bytes) });
      return success({ topic: topicAnswer(topic) });
    },
  );

  app.get('/admin/health', { schema: { response: { 200: healthAnswer } } }, async () => {
    const entries = await services.admin.health();
    return success({
      entries: entries.map((e) => ({ kind: e.kind, id: e.id, status: e.status, last_seen_ms: Number(e.lastSeenMs), detail: e.detail })),
    });
  });
};
