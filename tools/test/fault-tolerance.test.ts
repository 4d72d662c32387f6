import type { Role } from '../src/cluster/index.js';
import { judge, type Acked, type Delivered } from './support/delivery-oracle.js';
import { getJson, postJson, resilientCall } from './support/resilient-rest.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

/*
 * Fault injection: the course's 5-producer / 3-consumer workload runs against a real cluster
 * while processes are SIGKILLed (the launcher restarts them). Every acknowledged message must
 * reach every consumer of its topic exactly once, in per-(producer, partition) order.
 */
jest.setTimeout(240_000);

const MESSAGES_PER_PRODUCER = 60;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 3, replicas: 1, restart: true });
});

afterAll(async () => {
  await cluster?.dispose();
});

interface Workload {
  subscriptions: Map<string, string[]>; // consumer name -> topics
  acked: Acked[];
  delivered: Delivered[];
  /** Client retries the fault caused (failed calls retried with the same token). */
  retries: number;
}

async function runWorkload(scenario: string, fault: () => Promise<void>): Promise<Workload> {
  const base = cluster.gatewayUrl;
  const call = (request: () => Promise<Response>) =>
    resilientCall(request, {
      deadlineMs: 60_000,
      onRetry: () => {
        retries++;
      },
    });
  let retries = 0;
  const topic = (t: string) => `${scenario}-${t}`;
  const publishers: Record<string, string[]> = { T1: ['P1', 'P2', 'P3'], T2: ['P1', 'P4', 'P5'], T3: ['P1', 'P2'] };
  const subscribers: Record<string, string[]> = { T1: ['C1', 'C2', 'C3'], T2: ['C1'], T3: ['C1', 'C2', 'C3'] };

  for (const t of Object.keys(publishers)) {
    const created = await call(postJson(base, '/topics', { topic_name: topic(t), partitions: 3 }));
    expect(created.status).toBe(201);
  }
  const subscriptions = new Map<string, string[]>();
  const consumers: { name: string; topic: string; id: number }[] = [];
  for (const [t, names] of Object.entries(subscribers)) {
    for (const name of names) {
      const answer = await call(postJson(base, '/consumer/register', { topic: topic(t) }));
      consumers.push({ name: `${name}@${t}`, topic: topic(t), id: answer.body.consumer_id as number });
      subscriptions.set(`${name}@${t}`, [topic(t)]);
    }
  }
  const producers: { name: string; topic: string; id: number }[] = [];
  for (const [t, names] of Object.entries(publishers)) {
    for (const name of names) {
      const answer = await call(postJson(base, '/producer/register', { topic: topic(t) }));
      producers.push({ name, topic: topic(t), id: answer.body.producer_id as number });
    }
  }

  const acked: Acked[] = [];
  const delivered: Delivered[] = [];
  let producing = true;
  let faultDone = false;

  const produce = async (p: { name: string; topic: string; id: number }): Promise<void> => {
    for (let seq = 0; seq < MESSAGES_PER_PRODUCER; seq++) {
      // The same sequence on every retry: a retry after a lost answer lands once.
      const answer = await call(postJson(base, '/producer/produce', { topic: p.topic, producer_id: p.id, message: `${p.name}:${seq}`, sequence: seq }));
      expect(answer.body).toMatchObject({ status: 'success' });
      acked.push({ topic: p.topic, producer: p.name, sequence: seq, partition: answer.body.partition_id as number, offset: answer.body.offset as number });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  const consume = async (c: { name: string; topic: string; id: number }): Promise<void> => {
    let requestNumber = 0;
    let emptyAfterDone = 0;
    while (emptyAfterDone < 3) {
      // The same request id on every retry: a lost answer is given again, not skipped.
      const requestId = `${c.name}-${requestNumber}`;
      const answer = await call(getJson(base, '/consumer/consume', { topic: c.topic, consumer_id: c.id, request_id: requestId }));
      if (answer.body.status === 'success') {
        requestNumber++;
        const [producer, sequence] = String(answer.body.message).split(':');
        delivered.push({
          consumer: c.name,
          topic: c.topic,
          producer: producer!,
          sequence: Number(sequence),
          partition: answer.body.partition_id as number,
          offset: answer.body.offset as number,
        });
        continue;
      }
      expect(answer.body.code).toBe('EMPTY');
      if (!producing && faultDone) emptyAfterDone++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const consuming = Promise.all(consumers.map(consume));
  const producingDone = Promise.all(producers.map(produce)).then(() => {
    producing = false;
  });
  // Strike once the run is well under way.
  while (acked.length < (producers.length * MESSAGES_PER_PRODUCER) / 3) await new Promise((resolve) => setTimeout(resolve, 10));
  await fault();
  faultDone = true;
  await producingDone;
  await consuming;
  return { subscriptions, acked, delivered, retries };
}

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
  const workload = await runWorkload(`kill-${scenario}`, () => killAndAwaitRestart(roles));
  const report = judge(workload.acked, workload.delivered, workload.subscriptions);
  process.stdout.write(
    `fault scenario kill-${scenario}: acked=${report.acked} delivered=${report.delivered} lost=${report.lost} ` +
      `duplicated=${report.duplicated} outOfOrder=${report.outOfOrder} clientRetries=${workload.retries}\n`,
  );
  expect(report.examples).toEqual([]);
  expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
  expect(report.acked).toBe(8 * MESSAGES_PER_PRODUCER);
});
