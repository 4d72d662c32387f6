import { Mutex } from '@partq/runtime';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { useMigratedDatabase } from '../../test/migrated-database.js';
import { ClusterState } from '../state/cluster-state.js';
import { MetadataStore } from '../store/metadata-store.js';
import { ConsumerExpiry } from './consumer-expiry.js';

const testDb = useMigratedDatabase();
const HOUR = 3_600_000;

test('removes the consumers idle past the expiry, with their positions, last delivery and health entry, and streams the removal', async () => {
  const store = new MetadataStore(testDb.db);
  const topic = await testDb.db.insertInto('topics').values({ name: 'expiring', partition_count: 1 }).returning('id').executeTakeFirstOrThrow();
  await testDb.db.insertInto('partitions').values({ topic_id: topic.id, partition_id: 0 }).execute();
  const idle = await store.createConsumer(topic.id, undefined, [{ partitionId: 0, nextOffset: 0 }]);
  const busy = await store.createConsumer(topic.id, undefined, [{ partitionId: 0, nextOffset: 0 }]);
  await testDb.db.insertInto('consumer_deliveries').values({ consumer_id: idle.id, request_id: 'r', partition_id: 0, from_offset: 0, to_offset: 0 }).execute();
  const now = Date.now() + 10 * HOUR;
  await store.recordActivity([], [idle.id], new Date(now - 3 * HOUR));
  await store.recordActivity([], [busy.id], new Date(now - HOUR));

  const state = new ClusterState();
  state.apply({ consumers: [idle, busy] });
  const updates: number[][] = [];
  const watching = new AbortController();
  const watch = (async () => {
    for await (const update of state.watch(watching.signal)) if (!update.snapshot) updates.push(update.metadata!.removedConsumerIds);
  })();

  const expired = new Counter({ name: 'expired', help: 'x', registers: [new Registry()] });
  const expiry = new ConsumerExpiry(store, state, new Mutex(), pino({ level: 'silent' }), expired, 2 * HOUR);
  // Nothing goes before this manager has listened for activity for a whole expiry period.
  expect(await expiry.runOnce(Date.now())).toEqual([]);
  expect(await expiry.runOnce(now)).toEqual([idle.id]);

  expect([...state.consumers.keys()]).toEqual([busy.id]);
  const remaining = await testDb.db.selectFrom('consumer_positions').select('consumer_id').execute();
  expect(remaining.map((r) => r.consumer_id)).toEqual([busy.id]);
  expect(await testDb.db.selectFrom('consumer_deliveries').selectAll().execute()).toEqual([]);
  const health = await store.readHealth();
  expect(health.filter((h) => h.kind === 'consumer').map((h) => h.entity_id)).toEqual([busy.id]);
  expect((await expired.get()).values[0]?.value).toBe(1);

  // A second pass finds nothing more.
  expect(await expiry.runOnce(now)).toEqual([]);
  watching.abort();
  await watch;
  expect(updates).toEqual([[idle.id]]);
});
