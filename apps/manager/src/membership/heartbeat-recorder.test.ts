import { useMigratedDatabase } from '../../test/migrated-database.js';
import { MetadataStore } from '../store/metadata-store.js';
import { HeartbeatRecorder } from './heartbeat-recorder.js';

const testDb = useMigratedDatabase();
const logger = { warn: () => undefined };

describe('HeartbeatRecorder', () => {
  test('writes the latest heartbeat and state of each broker, in the order recorded', async () => {
    const store = new MetadataStore(testDb.db);
    const one = await store.registerBroker('http://127.0.0.1:7101', undefined);
    const two = await store.registerBroker('http://127.0.0.1:7102', undefined);
    const recorder = new HeartbeatRecorder(store, logger);
    const at = (ms: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, 0, ms));

    // Recorded without waiting; a burst collapses to the last of each broker.
    recorder.record(one.id, 'alive', at(1));
    recorder.record(two.id, 'alive', at(2));
    recorder.record(one.id, 'alive', at(3));
    recorder.record(one.id, 'dead', at(4));
    await recorder.settled();

    const brokers = await testDb.db.selectFrom('brokers').select(['id', 'last_heartbeat_at']).where('id', 'in', [one.id, two.id]).orderBy('id').execute();
    expect(brokers.map((b) => b.last_heartbeat_at.getTime())).toEqual([at(4).getTime(), at(2).getTime()]);
    const health = await store.readHealth();
    expect(health.filter((h) => h.kind === 'broker').map((h) => ({ id: h.entity_id, status: h.status }))).toEqual([
      { id: one.id, status: 'dead' },
      { id: two.id, status: 'alive' },
    ]);
  });

  test('a failed write is reported and does not stop later ones', async () => {
    const warnings: unknown[] = [];
    const store = new MetadataStore(testDb.db);
    const broken = await store.registerBroker('http://127.0.0.1:7103', undefined);
    const fine = await store.registerBroker('http://127.0.0.1:7104', undefined);
    const recorder = new HeartbeatRecorder(store, { warn: (...args: unknown[]) => void warnings.push(args) });
    // PostgreSQL refuses an invalid timestamp: a real failed write.
    recorder.record(broken.id, 'alive', new Date(Number.NaN));
    recorder.record(fine.id, 'draining', new Date());
    await recorder.settled();
    expect(warnings).toHaveLength(1);
    const health = await store.readHealth();
    expect(health.find((h) => h.kind === 'broker' && h.entity_id === fine.id)?.status).toBe('draining');
  });
});
