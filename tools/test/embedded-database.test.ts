import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '../src/cluster/index.js';
import { RestClient } from './support/rest-client.js';
import { listBrokers } from './support/admin-api.js';
import { pauseFor, sleep, waitFor } from './support/wait-for.js';

/*
 * The Central DB failing under a running cluster, on the launcher's own embedded PostgreSQL (always
 * embedded here, whatever DATABASE_URL says: this file stops and kills it). Stalled, it costs no
 * broker its partitions; killed, the launcher starts it again and the cluster recovers.
 */
jest.setTimeout(180_000);

const BROKER_TIMEOUT_MS = 2000;

let dataDir: string;
let cluster: LocalCluster;
let rest: RestClient;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'partq-embedded-'));
  // As root, PostgreSQL runs as its own OS user, which must be able to enter the directory.
  chmodSync(dataDir, 0o755);
  cluster = await startLocalCluster({
    dataDir,
    ports: 'auto',
    // Two, so that a broker wrongly declared dead would lose its partitions to the other.
    brokers: 2,
    replicas: 1,
    env: { all: { PARTQ_LOG_LEVEL: 'warn', PARTQ_SYNC_INTERVAL: '200ms' }, manager: { PARTQ_BROKER_TIMEOUT: `${BROKER_TIMEOUT_MS}ms` } },
  });
  rest = new RestClient(cluster.gatewayUrl);
});

afterAll(async () => {
  await cluster?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** `pid` and every process below it (PostgreSQL's backends and helpers are the postmaster's children). */
function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  return tree;
}

async function brokerStates(): Promise<{ id: number; state: string; epochs: number[] }[]> {
  return (await listBrokers(cluster)).map((b) => ({ id: b.broker_id, state: b.state, epochs: b.partitions.map((p) => p.epoch) }));
}

test('PostgreSQL stopped for three broker timeouts costs no broker its partitions', async () => {
  await rest.createTopic('stalled', 2);
  const producer = await rest.registerProducer('stalled');
  const consumer = await rest.registerConsumer('stalled');
  const before = await brokerStates();
  const postgres = processTree(cluster.database.pid!);
  await pauseFor({ kill: (signal) => postgres.forEach((pid) => process.kill(pid, signal)) }, BROKER_TIMEOUT_MS * 3);
  await sleep(BROKER_TIMEOUT_MS);
  expect(await brokerStates()).toEqual(before);
  expect((await rest.produce('stalled', producer, 'after the stall', { acks: 'all' })).body).toMatchObject({ status: 'success' });
  expect(await rest.receive('stalled', consumer, 1)).toEqual(['after the stall']);
});

test('a SIGKILLed embedded PostgreSQL is started again, and committed messages are still there', async () => {
  expect(cluster.database.embedded).toBe(true);
  await rest.createTopic('survives', 1);
  const producer = await rest.registerProducer('survives');
  const consumer = await rest.registerConsumer('survives');
  expect((await rest.produce('survives', producer, 'before', { acks: 'all' })).body).toMatchObject({ status: 'success', offset: 0 });

  const killed = cluster.database.pid!;
  process.kill(killed, 'SIGKILL');
  await waitFor('PostgreSQL to be started again', async () => {
    const pid = cluster.database.pid;
    return pid !== undefined && pid !== killed ? pid : undefined;
  }, 60_000);

  // acks=all needs the manager's commit in PostgreSQL: the whole path works again.
  const after = await waitFor('an acks=all produce to succeed', async () => {
    const answer = await rest.produce('survives', producer, 'after', { acks: 'all', sequence: 1 });
    return answer.body.status === 'success' ? answer.body : undefined;
  }, 90_000);
  expect(after).toMatchObject({ offset: 1 });
  expect(await rest.receive('survives', consumer, 2, 60_000)).toEqual(['before', 'after']);
});
