import type { FastifyPluginAsync } from 'fastify';
import { brokerStateName } from '../admin/health-report.js';
import type { RestOptions } from './rest-options.js';
import { success } from './envelope.js';
import { arrayOf, integerField, objectSchema, stringField, successSchema, timeField, type FieldSchema } from './schemas.js';

/** Milliseconds since the epoch as ISO 8601, or null for "never". */
function isoTime(ms: number): string | null {
  return ms > 0 ? new Date(ms).toISOString() : null;
}

const lastSeenMs = { type: 'integer', description: 'Milliseconds since the epoch; 0 for never' } as const;

const brokerFields: Record<string, FieldSchema> = {
  broker_id: integerField,
  address: stringField,
  state: stringField,
  last_heartbeat: timeField,
  last_heartbeat_ms: lastSeenMs,
};

const clientFields = (idName: string): Record<string, FieldSchema> => ({
  [idName]: integerField,
  topic: { type: 'string', description: "'' while this gateway does not know the client's topic yet" },
  status: stringField,
  last_activity: timeField,
  last_activity_ms: lastSeenMs,
});

const healthAnswer = successSchema("The manager's health-check tables", {
  brokers: arrayOf(objectSchema(brokerFields)),
  producers: arrayOf(objectSchema(clientFields('producer_id'))),
  consumers: arrayOf(objectSchema(clientFields('consumer_id'))),
  replicas: arrayOf(
    objectSchema({ replica_id: integerField, address: stringField, status: stringField, last_heartbeat: timeField, last_heartbeat_ms: lastSeenMs }),
  ),
  failing_syncs: arrayOf(
    objectSchema({
      broker_id: integerField,
      reason: { type: 'string', description: "Why the manager's last sync of this broker's records to PostgreSQL failed (e.g. the central database is out of disk space)" },
      last_synced: timeField,
      last_synced_ms: lastSeenMs,
    }),
  ),
});

const brokersAnswer = successSchema("Brokers as this gateway's partition map knows them", { brokers: arrayOf(objectSchema(brokerFields)) });

/** GET /health (the manager's health-check tables), GET /brokers (this gateway's partition map view). */
export const healthRoutes: FastifyPluginAsync<RestOptions> = async (app, { services }) => {
  app.get('/health', { schema: { response: { 200: healthAnswer } } }, async () => {
    const health = await services.health.cluster();
    return success({
      brokers: health.brokers.map((b) => ({
        broker_id: b.brokerId,
        address: b.address,
        state: b.state,
        last_heartbeat: isoTime(b.lastHeartbeatMs),
        last_heartbeat_ms: b.lastHeartbeatMs,
      })),
      producers: health.producers.map((p) => ({
        producer_id: p.id,
        topic: p.topic,
        status: p.status,
        last_activity: isoTime(p.lastActivityMs),
        last_activity_ms: p.lastActivityMs,
      })),
      consumers: health.consumers.map((c) => ({
        consumer_id: c.id,
        topic: c.topic,
        status: c.status,
        last_activity: isoTime(c.lastActivityMs),
        last_activity_ms: c.lastActivityMs,
      })),
      replicas: health.replicas.map((r) => ({
        replica_id: r.replicaId,
        address: r.address,
        status: r.status,
        last_heartbeat: isoTime(r.lastHeartbeatMs),
        last_heartbeat_ms: r.lastHeartbeatMs,
      })),
      failing_syncs: health.failingSyncs.map((f) => ({
        broker_id: f.brokerId,
        reason: f.reason,
        last_synced: isoTime(f.lastSyncedMs),
        last_synced_ms: f.lastSyncedMs,
      })),
    });
  });

  app.get('/brokers', { schema: { response: { 200: brokersAnswer } } }, async () => {
    return success({
      brokers: services.view.brokers().map((b) => ({
        broker_id: b.id,
        address: b.address,
        state: brokerStateName(b.state),
        last_heartbeat: isoTime(Number(b.lastHeartbeatMs)),
        last_heartbeat_ms: Number(b.lastHeartbeatMs),
      })),
    });
  });
};
