import { fastify } from 'fastify';
import type { ClusterStatusSnapshot } from './cluster-status.js';
import { statusSnapshotSchema } from './status-snapshot-schema.js';

/** Every field filled, arrays non-empty, and each nullable field once null and once not. */
const SNAPSHOT: ClusterStatusSnapshot = {
  generated_at_ms: 1_764_000_000_123,
  gateway: { ready: true, metadata_version: 42 },
  rates: { window_ms: 5000, sample_interval_ms: 1000, produce_rate: 12.5, consume_rate: 0.25, produce_series: [1, 2.5], consume_series: [0, 0.5] },
  topics: [
    {
      name: 'orders',
      partitions: [{ partition_id: 1, broker_id: 2, epoch: 3, start_offset: 4, end_offset: 9_007_199_254_740_991, high_watermark: 8, stored_bytes: 700 }],
      messages: 10,
      retained: 6,
      stored_bytes: 700,
      retention_ms: 86_400_000,
      retention_bytes: null,
      produce_rate: 1.5,
      consume_rate: 0.5,
      produce_series: [1.5],
      consume_series: [0.5],
    },
    {
      name: 'audit',
      partitions: [],
      messages: 0,
      retained: 0,
      stored_bytes: 0,
      retention_ms: null,
      retention_bytes: 1_000_000,
      produce_rate: 0,
      consume_rate: 0,
      produce_series: [0],
      consume_series: [0],
    },
  ],
  brokers: [{ broker_id: 2, address: 'http://127.0.0.1:7102', state: 'alive', last_heartbeat_ms: 1_764_000_000_000, partitions: 1 }],
  replicas: [{ replica_id: 1, address: 'http://127.0.0.1:7201', status: 'alive', last_heartbeat_ms: 1_764_000_000_001 }],
  producers: [{ producer_id: 7, topic: 'orders', status: 'active', last_activity_ms: 1_764_000_000_002 }],
  consumers: [
    { consumer_id: 8, topic: 'orders', partition_id: null, status: 'active', last_activity_ms: 1_764_000_000_003, lag: 5 },
    { consumer_id: 9, topic: 'orders', partition_id: 0, status: 'inactive', last_activity_ms: 0, lag: null },
  ],
  problems: ['broker 3: unreachable'],
};

test('the status answer keeps every field of a snapshot through its response schema', async () => {
  const app = fastify();
  app.get('/status', { schema: { response: { 200: statusSnapshotSchema } } }, async () => SNAPSHOT);
  const reply = await app.inject({ method: 'GET', url: '/status' });
  await app.close();
  expect(reply.statusCode).toBe(200);
  expect(reply.json()).toEqual(SNAPSHOT);
});
