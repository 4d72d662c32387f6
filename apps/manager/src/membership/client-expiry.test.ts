import { Mutex } from '@partq/runtime';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { useMigratedDatabase } from '../../test/migrated-database.js';
import { ClusterState } from '../state/cluster-state.js';
import { MetadataStore } from '../store/metadata-store.js';
import { ClientExpiry } from './client-expiry.js';

const testDb = useMigratedDatabase();
const HOUR = 3_600_000;

test('removes the clients idle past the expiry, a consumer with its positions and last delivery, and streams the removals', async () => {
  const store = new MetadataStore(testDb.db);
  const topic = await testDb.db.insertInto('topics').values({ name: 'expiring', partition_count: 1 }).returning('id').executeTakeFirstOrThrow();
  await testDb.db.insertInto('partitions').values({ topic_id: topic.id, partition_id: 0 }).execute();
  const idle = await store.createConsumer(topic.id, undefined, [{ partitionId: 0, nextOffset: 0 }]);
  const busy = await store.createConsumer(topic.id, undefined, [{ partitionId: 0, nextOffset: 0 }]);
  const idleProducer = await store.createProducer(topic.id, undefined);
  const busyProducer = await store.createProducer(topic.id, 0);
  await testDb.db.insertInto('consumer_deliveries').values({ consumer_id: idle.id, request_id: 'r', partition_id: 0, from_offset: 0, to_offset: 0 }).execute();
  const now = Date.now() + 10 * HOUR;
  await store.recordActivity([idleProducer.id], [idle.id], new Date(now - 3 * HOUR));
  await store.recordActivity([busyProducer.id], [busy.id], new Date(now - HOUR));

  const state = new ClusterState();
  state.apply({ consumers: [idle, busy], producers: [idleProducer, busyProducer] });
  const updates: { producers: number[]; consumers: number[] }[] = [];
  const watching = new AbortController();
  const watch = (async () => {
    for await (const update of state.watch(watching.signal)) {
      if (!update.snapshot) updates.push({ producers: update.metadata!.removedProducerIds, consumers: update.metadata!.removedConsumerIds });
    }
  })();

  const expired = new Counter({ name: 'expired', help: 'x', labelNames: ['kind'], registers: [new Registry()] });
  const lock = new Mutex();
  const quiet = pino({ level: 'silent' });
  const consumers = new ClientExpiry(store, state, lock, quiet, { kind: 'consumer', expiryMs: 2 * HOUR, expired });
  const producers = new ClientExpiry(store, state, lock, quiet, { kind: 'producer', expiryMs: 2 * HOUR, expired });
  // Nothing goes before this manager has listened for activity for a whole expiry period.
  expect(await consumers.runOnce(Date.now())).toEqual([]);
  expect(await consumers.runOnce(now)).toEqual([idle.id]);
  expect(await producers.runOnce(now)).toEqual([idleProducer.id]);

  expect([...state.consumers.keys()]).toEqual([busy.id]);
  expect([...state.producers.keys()]).toEqual([busyProducer.id]);
  const remaining = await testDb.db.selectFrom('consumer_positions').select('consumer_id').execute();
  expect(remaining.map((r) => r.consumer_id)).toEqual([busy.id]);
  expect(await testDb.db.selectFrom('consumer_deliveries').selectAll().execute()).toEqual([]);
  const health = await store.readHealth();
  expect(health.filter((h) => h.kind !== 'broker').map((h) => [h.kind, h.entity_id])).toEqual([
    ['consumer', busy.id],
    ['producer', busyProducer.id],
  ]);
  expect((await expired.get()).values.map((v) => [v.labels.kind, v.value]).sort()).toEqual([
    ['consumer', 1],
    ['producer', 1],
  ]);

  // A second pass finds nothing more.
  expect(await consumers.runOnce(now)).toEqual([]);
  watching.abort();
  await watch;
  expect(updates).toEqual([
    { producers: [], consumers: [idle.id] },
    { producers: [idleProducer.id], consumers: [] },
  ]);
});
