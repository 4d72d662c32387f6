import { useMigratedDatabase } from '../../test/migrated-database.js';
import { MetadataStore } from './metadata-store.js';

const testDb = useMigratedDatabase();

describe('MetadataStore.registerBroker', () => {
  test('a known broker comes back alive, or draining if it was being drained; an unknown id gets a new row', async () => {
    const store = new MetadataStore(testDb.db);
    const first = await store.registerBroker('http://127.0.0.1:7101', undefined);
    expect(first.state).toBe('alive');

    await store.setBrokerState(first.id, 'dead');
    expect((await store.registerBroker('http://127.0.0.1:7101', first.id)).state).toBe('alive');

    await store.setBrokerState(first.id, 'draining');
    const again = await store.registerBroker('http://127.0.0.1:7199', first.id);
    expect(again).toMatchObject({ id: first.id, state: 'draining', address: 'http://127.0.0.1:7199' });

    const fresh = await store.registerBroker('http://127.0.0.1:7102', 424242);
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.state).toBe('alive');
  });
});

describe('MetadataStore.resumeDrainingBroker', () => {
  test('a draining broker becomes alive; an alive or dead one stays as it is', async () => {
    const store = new MetadataStore(testDb.db);
    const broker = await store.registerBroker('http://127.0.0.1:7101', undefined);
    expect(await store.resumeDrainingBroker(broker.id)).toBeUndefined(); // alive already

    await store.setBrokerState(broker.id, 'draining');
    expect(await store.resumeDrainingBroker(broker.id)).toMatchObject({ id: broker.id, state: 'alive' });

    // Found dead while the resume was on its way: it stays dead (it comes back by registering).
    await store.setBrokerState(broker.id, 'dead');
    expect(await store.resumeDrainingBroker(broker.id)).toBeUndefined();
    expect(await store.setBrokerState(broker.id, 'dead')).toMatchObject({ state: 'dead' });
    expect(await store.resumeDrainingBroker(424242)).toBeUndefined();
  });
});
