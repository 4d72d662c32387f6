import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '../src/cluster/index.js';
import { RestClient } from './support/rest-client.js';
import { waitFor } from './support/wait-for.js';

/*
 * The launcher's embedded PostgreSQL (npm start, the benchmark) is supervised like the roles: if
 * it dies, it is started again on the same port and data directory, and the cluster recovers.
 * Always embedded here, whatever DATABASE_URL says: that is what this file is about.
 */
jest.setTimeout(180_000);

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
    brokers: 1,
    replicas: 1,
    env: { all: { PARTQ_LOG_LEVEL: 'warn', PARTQ_SYNC_INTERVAL: '200ms' } },
  });
  rest = new RestClient(cluster.gatewayUrl);
});

afterAll(async () => {
  await cluster?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
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
