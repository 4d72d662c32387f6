import type { FastifyPluginAsync } from 'fastify';
import type { PartitionMove } from '@partq/proto';
import { brokerStateName } from '../admin/health-report.js';
import type { RestOptions } from './rest-options.js';
import { success } from './envelope.js';
import { idSchema } from './schemas.js';

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

/** /admin/*: brokers with their partitions, drain, rebalance, health tables. Every call needs the admin token. */
export const adminRoutes: FastifyPluginAsync<RestOptions> = async (app, { services }) => {
  app.addHook('onRequest', async (request) => services.adminToken.check(request.headers.authorization));

  app.get('/admin/brokers', async () =>
    success({
      brokers: services.admin.brokers().map(({ broker, partitions }) => ({
        broker_id: broker!.id,
        address: broker!.address,
        state: brokerStateName(broker!.state),
        last_heartbeat_ms: Number(broker!.lastHeartbeatMs),
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
    { schema: { params: { type: 'object', required: ['broker_id'], properties: { broker_id: idSchema } } } },
    async (request) => {
      const moves = await services.admin.drain(request.params.broker_id);
      return success({ moves: moves.map(moveToJson) });
    },
  );

  app.post('/admin/rebalance', async () => {
    const moves = await services.admin.rebalance();
    return success({ moves: moves.map(moveToJson) });
  });

  app.get('/admin/health', async () => {
    const entries = await services.admin.health();
    return success({
      entries: entries.map((e) => ({ kind: e.kind, id: e.id, status: e.status, last_seen_ms: Number(e.lastSeenMs), detail: e.detail })),
    });
  });
};
