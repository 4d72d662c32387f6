import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@partq/runtime';
import type { StoreAssignment } from '../src/log/partition-store.js';
import { ManagerLink } from '../src/membership/manager-link.js';
import { StallFence } from '../src/membership/stall-fence.js';
import { FakeManager } from './fake-manager.js';

/*
 * The link keeps telling the manager this broker is alive whatever its store is busy with: heartbeats
 * that waited for a slow reconcile (a loaded machine, a partition fenced while appends finish) went
 * silent past the manager's timeout, and a live broker was declared dead with its acks=broker records.
 */

const logger = createLogger({ role: 'broker-test', instanceId: 'manager-link', level: 'silent' });

/** A store whose reconciles from the `holdFrom`-th on (the first is the registration's) wait until released. */
class SlowStore {
  generation = 0;
  reconciles = 0;

  constructor(private readonly holdFrom = 2) {}

  private release: (() => void) | undefined;
  private readonly held = new Promise<void>((resolve) => (this.release = resolve));

  private chain: Promise<unknown> = Promise.resolve();

  endOffsets() {
    return [];
  }

  /** Like PartitionStore.reconcile: one at a time, in the order called. */
  reconcile(_assignments: readonly StoreAssignment[]) {
    const run = this.chain.then(() => this.apply());
    this.chain = run;
    return run;
  }

  private async apply() {
    this.reconciles++;
    if (this.reconciles >= this.holdFrom) await this.held;
    this.generation++;
    return { created: [], kept: [], truncated: [], reset: [], removed: [], ignored: [], failed: [] };
  }

  finish(): void {
    this.release!();
  }
}

let manager: FakeManager;
let dataDir: string;

beforeEach(async () => {
  manager = await FakeManager.start(50);
  dataDir = await mkdtemp(join(tmpdir(), 'partq-link-'));
});

afterEach(async () => {
  await manager.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('heartbeats keep their interval while the store is slow to apply an assignment; every answer is still applied', async () => {
  const store = new SlowStore();
  const link = new ManagerLink({ managerUrl: manager.url, advertisedUrl: 'http://127.0.0.1:1', dataDir, store, logger });
  await link.start();
  expect(await link.whenRegistered()).toBe(1);
  manager.assign(1, [{ topicId: 1, partitionId: 0, epoch: 1 }]);

  // Every 50 ms: ten more heartbeats while the reconcile stays held (waiting for it, there was one).
  const before = manager.heartbeats.length;
  const deadline = Date.now() + 3_000;
  while (manager.heartbeats.length < before + 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(manager.heartbeats.length).toBeGreaterThanOrEqual(before + 10);
  // Behind the held one, the answers since wait their turn.
  expect(store.reconciles).toBe(2);

  store.finish();
  await link.stop();
  // Each answer was applied once the one before it was: the registration's, then one per heartbeat
  // (the last may have been cut off by stop() before its answer came).
  expect(store.reconciles).toBeGreaterThanOrEqual(manager.heartbeats.length);
  expect(store.reconciles).toBeLessThanOrEqual(1 + manager.heartbeats.length);
});

test('fits the stall fence to the timeout the manager announces', async () => {
  manager.brokerTimeoutMs = 1000; // with heartbeats every 50 ms: stalls past ~0.7 s may cost the partitions
  const clock = { now: 0 };
  const stallFence = new StallFence({ thresholdMs: 1000, logger, now: () => clock.now });
  const store = new SlowStore();
  store.finish(); // nothing held here
  const link = new ManagerLink({ managerUrl: manager.url, advertisedUrl: 'http://127.0.0.1:1', dataDir, store, logger, stallFence });
  await link.start();
  await link.whenRegistered();
  await link.stop();
  stallFence.assertServing();
  clock.now += 800; // unnoticed at the configured 1 s
  expect(() => stallFence.assertServing()).toThrow('the broker stalled');
});

test('a registration whose assignment is slow to apply does not hold back the heartbeats after it', async () => {
  const store = new SlowStore(1);
  const link = new ManagerLink({ managerUrl: manager.url, advertisedUrl: 'http://127.0.0.1:1', dataDir, store, logger });
  let registered = false;
  void link.whenRegistered().then(() => (registered = true));
  await link.start();

  // The manager hears from the broker every 50 ms while its first assignment is still being created.
  const deadline = Date.now() + 3_000;
  while (manager.heartbeats.length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(manager.registrations).toHaveLength(1);
  expect(manager.heartbeats.length).toBeGreaterThanOrEqual(5);
  // Not ready until it is in place.
  expect(registered).toBe(false);
  expect(link.registered).toBe(false);

  store.finish();
  expect(await link.whenRegistered()).toBe(1);
  expect(link.registered).toBe(true);
  await link.stop();
});

test('re-registering after the manager forgot the broker does not hold back the heartbeats either', async () => {
  const store = new SlowStore(2);
  const link = new ManagerLink({ managerUrl: manager.url, advertisedUrl: 'http://127.0.0.1:1', dataDir, store, logger });
  await link.start();
  expect(await link.whenRegistered()).toBe(1);
  // Held from the first heartbeat's answer on; the manager then forgets the broker.
  manager.forgetBrokers();
  const deadline = Date.now() + 3_000;
  while (manager.registrations.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(manager.registrations).toHaveLength(2);
  // Same id, remembered.
  expect(manager.registrations[1]!.brokerId).toBe(1);
  const afterReRegistration = manager.heartbeats.length;
  while (manager.heartbeats.length < afterReRegistration + 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(manager.heartbeats.length).toBeGreaterThanOrEqual(afterReRegistration + 5);
  store.finish();
  await link.stop();
});
