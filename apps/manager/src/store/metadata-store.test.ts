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

    await store.markBrokerDraining(first.id, 'disk_full');
    const again = await store.registerBroker('http://127.0.0.1:7199', first.id);
    expect(again).toMatchObject({ id: first.id, state: 'draining', drain_reason: 'disk_full', address: 'http://127.0.0.1:7199' });

    // Dead while drained, it comes back alive with no reason left over.
    await store.setBrokerState(first.id, 'dead');
    expect(await store.registerBroker('http://127.0.0.1:7199', first.id)).toMatchObject({ state: 'alive', drain_reason: null });

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

    await store.markBrokerDraining(broker.id, 'disk_full');
    expect(await store.resumeDrainingBroker(broker.id)).toMatchObject({ id: broker.id, state: 'alive', drain_reason: null });

    // Found dead while the resume was on its way: it stays dead (it comes back by registering).
    await store.setBrokerState(broker.id, 'dead');
    expect(await store.resumeDrainingBroker(broker.id)).toBeUndefined();
    expect(await store.setBrokerState(broker.id, 'dead')).toMatchObject({ state: 'dead' });
    expect(await store.resumeDrainingBroker(424242)).toBeUndefined();
  });
});

describe('MetadataStore.markBrokerDraining', () => {
  test("records why; an operator's drain outranks the manager's, whichever comes first", async () => {
    const store = new MetadataStore(testDb.db);
    const broker = await store.registerBroker('http://127.0.0.1:7101', undefined);
    expect(broker.drain_reason).toBeNull();

    expect(await store.markBrokerDraining(broker.id, 'disk_full')).toMatchObject({ state: 'draining', drain_reason: 'disk_full' });
    expect(await store.markBrokerDraining(broker.id, 'operator')).toMatchObject({ state: 'draining', drain_reason: 'operator' });
    // Its disk filling up later does not make an operator's drain the manager's to undo.
    expect(await store.markBrokerDraining(broker.id, 'disk_full')).toMatchObject({ state: 'draining', drain_reason: 'operator' });

    // Once resumed, the next drain's reason is its own.
    await store.resumeDrainingBroker(broker.id);
    expect(await store.markBrokerDraining(broker.id, 'disk_full')).toMatchObject({ state: 'draining', drain_reason: 'disk_full' });
    expect(await store.markBrokerDraining(424242, 'operator')).toBeUndefined();
  });

  test('the database refuses a reason it does not know', async () => {
    const store = new MetadataStore(testDb.db);
    const broker = await store.registerBroker('http://127.0.0.1:7101', undefined);
    await expect(store.markBrokerDraining(broker.id, 'bored' as never)).rejects.toThrow(/check constraint/);
  });
});
