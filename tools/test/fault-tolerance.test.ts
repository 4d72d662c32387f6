import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Role } from '../src/cluster/index.js';
import { judgeAndReport, runCourseWorkload } from './support/course-workload.js';
import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';
import { waitFor } from './support/wait-for.js';

/*
 * Fault injection: the course's 5-producer / 3-consumer workload runs against a real cluster
 * while processes are SIGKILLed (the launcher restarts them). Every acknowledged message must
 * reach every consumer of its topic exactly once, in per-(producer, partition) order.
 */
jest.setTimeout(240_000);

const MESSAGES_PER_PRODUCER = 60;
let cluster: TestCluster;

beforeAll(async () => {
  // acks=broker survives a broker's SIGKILL when it comes back before it is declared dead (after
  // that its partitions move, by design: see docs/semantics.md). A loaded CI machine can take
  // seconds to restart a process, so the dead-broker timeout here is well above that.
  cluster = await startTestCluster({ brokers: 3, replicas: 1, restart: true, env: { manager: { PARTQ_BROKER_TIMEOUT: '20s' } } });
});

afterAll(async () => {
  await cluster?.dispose();
});

async function killAndAwaitRestart(roles: { role: Role; id: number }[]): Promise<void> {
  const targets = roles.map(({ role, id }) => cluster.find(role, id));
  const before = targets.map((t) => t.pid);
  await Promise.all(targets.map((t) => t.kill('SIGKILL')));
  // The launcher restarts what died; wait until every target runs again under a new pid.
  const deadline = Date.now() + 60_000;
  while (targets.some((t, i) => !t.running || t.pid === before[i])) {
    if (Date.now() > deadline) throw new Error('a killed process was not restarted');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const everyRole: { role: Role; id: number }[] = [
  { role: 'manager', id: 1 },
  { role: 'broker', id: 1 },
  { role: 'broker', id: 2 },
  { role: 'broker', id: 3 },
  { role: 'replica', id: 1 },
  { role: 'gateway', id: 1 },
];

test.each([
  ['broker', [{ role: 'broker', id: 1 }]],
  ['manager', [{ role: 'manager', id: 1 }]],
  ['replica', [{ role: 'replica', id: 1 }]],
  ['gateway', [{ role: 'gateway', id: 1 }]],
  ['all', everyRole],
] as [string, { role: Role; id: number }[]][])('SIGKILL %s under load: nothing acknowledged is lost, duplicated or reordered', async (scenario, roles) => {
  const workload = await runCourseWorkload(cluster.gatewayUrl, {
    scenario: `kill-${scenario}`,
    fault: () => killAndAwaitRestart(roles),
    messagesPerProducer: MESSAGES_PER_PRODUCER,
  });
  const report = judgeAndReport(`kill-${scenario}`, workload);
  expect(report.examples).toEqual([]);
  expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
  expect(report.acked).toBe(8 * MESSAGES_PER_PRODUCER);
});

/** The brokers' sequence snapshots (`sequences.bin`) written since `since` (ms since the epoch). */
function snapshotsSince(since: number): string[] {
  const found: string[] = [];
  for (const broker of readdirSync(cluster.dataDir).filter((name) => name.startsWith('broker-'))) {
    const partitions = join(cluster.dataDir, broker, 'partitions');
    let dirs: string[];
    try {
      dirs = readdirSync(partitions);
    } catch {
      continue;
    }
    for (const dir of dirs) {
      const file = join(partitions, dir, 'sequences.bin');
      try {
        if (statSync(file).mtimeMs >= since) found.push(file);
      } catch {
        // no snapshot in this partition
      }
    }
  }
  return found;
}

test('a retried produce lands once though its broker restarted after trimming the records from its WAL', async () => {
  const rest = new RestClient(cluster.gatewayUrl);
  await rest.createTopic('retry-after-trim', 1);
  const producer = await rest.registerProducer('retry-after-trim');
  const consumer = await rest.registerConsumer('retry-after-trim');
  const started = Date.now();
  const produce = (sequence: number) => rest.produce('retry-after-trim', producer, `m${sequence}`, { sequence, partition_id: 0 });
  const first = [];
  for (let sequence = 0; sequence < 3; sequence++) first.push((await produce(sequence)).body);
  expect(first.map((answer) => answer.offset)).toEqual([0, 1, 2]);
  // A broker lets the segment it writes go only once it holds 1 MiB: two large records fill it.
  const large = (sequence: number) => rest.produce('retry-after-trim', producer, `m${sequence}`.padEnd(600_000, '.'), { sequence, partition_id: 0 });
  expect([(await large(3)).body.offset, (await large(4)).body.offset]).toEqual([3, 4]);

  // The manager commits them (every 200 ms here) and the owner trims them from its WAL, saving their sequences.
  await waitFor('a broker to trim its WAL', async () => (snapshotsSince(started).length > 0 ? true : undefined));
  // Every broker restarts, the owner among them: whatever it knows now comes from its disk.
  await killAndAwaitRestart([1, 2, 3].map((id) => ({ role: 'broker' as Role, id })));

  // The answer to sequence 1 was "lost": its retry gets the original offset instead of a second copy.
  const retried = await waitFor('the retry to be answered', async () => {
    const answer = (await produce(1)).body;
    return answer.status === 'success' ? answer : undefined;
  });
  expect(retried).toMatchObject({ offset: 1, duplicate: true });
  expect((await produce(5)).body).toMatchObject({ status: 'success', offset: 5 });
  const drained = (await rest.drain('retry-after-trim', consumer)).map((m) => String(m.message).replace(/\.+$/, ''));
  expect(drained).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
});

