import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { findNatsServer } from '../src/bench/nats-server-process.js';
import { runScript } from './support/run-script.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

// `npm run bench` in its --quick mode against a test cluster: it must run every kind of measurement
// and print valid JSON lines. The numbers themselves mean nothing here and are not checked.
jest.setTimeout(180_000);

const BENCH = join(__dirname, '..', 'dist', 'bench', 'main.js');

let cluster: TestCluster;
let outDir: string;

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 2, replicas: 1 });
  outDir = mkdtempSync(join(tmpdir(), 'partq-bench-smoke-'));
});

afterAll(async () => {
  await cluster?.dispose();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** The NATS the bench's reference runs use by default (the bench reads the same variable). */
const NATS_URL = process.env['PARTQ_BENCH_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** Why the reference runs will be skipped on this machine, or undefined when NATS with JetStream answers. */
async function natsUnavailable(): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 2000, reconnect: false });
    try {
      await jetstreamManager(nc);
      return undefined;
    } catch {
      return 'JetStream is not enabled';
    } finally {
      await nc.close();
    }
  } catch {
    return 'NATS not reachable';
  }
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function runBench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runScript(BENCH, args, env);
}

test('--help lists the flags', async () => {
  const { code, stdout } = await runBench(['--help']);
  expect(code).toBe(0);
  expect(stdout).toContain('--url');
  expect(stdout).toContain('--quick');
  expect(stdout).toContain('--nats-url');
  expect(stdout).toContain('--no-reference');
});

test('a quick run prints one valid JSON line per measurement, a summary, and writes its report', async () => {
  const { code, stdout, stderr } = await runBench([
    '--url',
    cluster.gatewayUrl,
    '--cluster-file',
    join(cluster.dataDir, 'cluster.json'),
    '--quick',
    '--sizes',
    '100',
    '--consume-batches',
    '100',
    '--out-dir',
    outDir,
    // The hop floor commits its positions in the cluster's PostgreSQL.
    '--database-url',
    cluster.databaseUrl,
  ]);
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });

  const lines = stdout.split('\n').filter((line) => line.startsWith('{'));
  const measurements = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const m of measurements) {
    expect(typeof m['name']).toBe('string');
    for (const field of ['msgs', 'msgs_per_s', 'mb_per_s', 'seconds', 'errors']) expect(typeof m[field]).toBe('number');
    for (const field of ['p50_ms', 'p99_ms', 'max_ms', 'cpu_ms_per_msg']) expect(m[field] === null || typeof m[field] === 'number').toBe(true);
  }
  const names = measurements.map((m) => m['name'] as string);
  expect(names).toEqual(
    expect.arrayContaining([
      'cluster.idle',
      'warm-up.produce.client.pipelined.100B.acks-broker',
      'produce.client.pipelined.100B.acks-broker',
      'produce.client.one-at-a-time.100B.acks-all',
      // --quick caps every REST concurrency at 4 connections, so 16 and 256 become one run.
      'http-baseline.bare-fastify.100B.4-conns',
      'produce.rest.one-per-request.100B.acks-broker.4-conns',
      'consume.client.batch-100.100B',
      'e2e-latency.fixed-rate-200-per-s.100B',
      'broker-rss.whole-run',
      'reference.nats-jetstream.pipelined.100B',
      'reference.nats-jetstream.one-at-a-time.100B',
      'reference.hop-floor.e2e-latency.fixed-rate-200-per-s.100B',
    ]),
  );
  // The NATS reference is measured where NATS with JetStream answers, and skipped (not failed) elsewhere.
  const unavailable = await natsUnavailable();
  const references = measurements.filter((m) => m['via'] === 'nats-jetstream');
  expect(references).toHaveLength(2);
  for (const m of references) {
    expect(m['errors']).toBe(0);
    if (unavailable) {
      expect(m['skipped']).toContain(unavailable);
      expect(m['msgs']).toBe(0);
    } else {
      expect(m['skipped']).toBeUndefined();
      expect(m['fsync']).toEqual(expect.any(String));
      const natsServer = findNatsServer(Number(new URL(NATS_URL).port || 4222));
      expect(m['cpu_ms']).toEqual(natsServer ? { 'nats-server': expect.any(Number) } : null);
    }
  }
  expect(stdout).toMatch(/partq vs NATS JetStream on this machine.*: pipelined 100B \S+/);
  // The hop floor moved every message through its three processes, committed the position, and its CPU was read.
  const floor = measurements.find((m) => m['via'] === 'hop-floor')!;
  expect(floor).toMatchObject({ errors: 0, msgs: 100, committed_position: 100 });
  expect(floor['p99_ms']).toEqual(expect.any(Number));
  expect(Object.keys(floor['cpu_ms'] as object)).toEqual(expect.arrayContaining(['gateway', 'broker', 'replica']));
  expect(stdout).toMatch(/end-to-end vs the hop floor.*: partq p50 \S+ \/ p99 \S+ ms.*; floor p50 \S+ \/ p99 \S+ ms/);
  // The produce lines came after a warm-up of their own (--quick: 200 ms), which is a line of its own and no target's.
  expect(names.indexOf('warm-up.produce.client.pipelined.100B.acks-broker')).toBeLessThan(names.indexOf('produce.client.pipelined.100B.acks-broker'));
  expect(measurements.find((m) => m['kind'] === 'warm-up')).toMatchObject({ errors: 0, mode: 'pipelined', acks: 'broker', msg_bytes: 100 });
  expect(measurements.find((m) => m['name'] === 'produce.client.pipelined.100B.acks-broker')).toMatchObject({ produce_warmup_ms: 200 });
  // The end-to-end line warmed up first (--quick: 200 ms at 200 msg/s) and then measured its own 100 messages.
  expect(measurements.find((m) => m['kind'] === 'e2e-latency')).toMatchObject({ errors: 0, msgs: 100, warmup_msgs: 40 });
  // Every other measurement really moved messages, and the cluster's CPU was visible through the cluster file.
  for (const m of measurements.filter((x) => x['kind'] !== 'broker-rss' && x['kind'] !== 'idle' && x['skipped'] === undefined)) {
    expect(m['msgs']).toBeGreaterThan(0);
  }
  expect(measurements.find((m) => m['kind'] === 'produce')?.['cpu_ms_per_msg']).not.toBeNull();
  expect(stdout).toContain('Targets (ratios from this run):');

  const [runDir] = readdirSync(outDir);
  const written = readdirSync(join(outDir, runDir!));
  expect(written).toEqual(expect.arrayContaining(['results.json', 'results.jsonl', 'summary.txt', 'latency.svg']));
  expect(readFileSync(join(outDir, runDir!, 'latency.svg'), 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>\n$/);
  const report = JSON.parse(readFileSync(join(outDir, runDir!, 'results.json'), 'utf8')) as { measurements: unknown[] };
  expect(report.measurements).toHaveLength(measurements.length);
  expect(existsSync(join(outDir, runDir!, 'profiles'))).toBe(false);
});

test('without NATS the reference lines say skipped, with no error, and the run succeeds; --no-reference leaves them out', async () => {
  const nowhere = `nats://127.0.0.1:${await closedPort()}`;
  const common = ['--url', cluster.gatewayUrl, '--quick', '--sizes', '100', '--only', 'reference.nats-jetstream', '--out-dir', outDir];
  const skipped = await runBench([...common, '--nats-url', nowhere]);
  expect({ code: skipped.code, stderr: skipped.code === 0 ? '' : skipped.stderr }).toEqual({ code: 0, stderr: '' });
  const lines = skipped.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.map((m) => [m['name'], m['errors'], m['msgs']])).toEqual([
    ['reference.nats-jetstream.pipelined.100B', 0, 0],
    ['reference.nats-jetstream.one-at-a-time.100B', 0, 0],
  ]);
  for (const m of lines) expect(m['skipped']).toContain(`NATS not reachable at ${nowhere}`);
  expect(skipped.stdout).toContain('pipelined 100B NATS skipped, one-at-a-time 100B NATS skipped');

  const off = await runBench([...common, '--no-reference']);
  expect(off.code).toBe(0);
  expect(off.stdout.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
});

test('against a running gateway with no PostgreSQL named, the hop floor line says skipped, with no error', async () => {
  const { DATABASE_URL: _unset, ...env } = process.env;
  const { code, stdout } = await runBench(['--url', cluster.gatewayUrl, '--quick', '--sizes', '100', '--only', 'reference.hop-floor', '--out-dir', outDir], env);
  expect(code).toBe(0);
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines).toEqual([expect.objectContaining({ name: 'reference.hop-floor.e2e-latency.fixed-rate-200-per-s.100B', errors: 0, msgs: 0 })]);
  expect(lines[0]!['skipped']).toContain('--database-url');
  expect(stdout).toContain('floor skipped');
});

// Last: it drains a broker of the shared cluster (then resumes it and rebalances).
test('--moves: keyed batches while the last broker is drained, resumed and the partitions rebalanced; without the admin token it says why', async () => {
  const clusterFile = join(cluster.dataDir, 'cluster.json');
  const common = ['--url', cluster.gatewayUrl, '--quick', '--moves', '--only', 'moves', '--out-dir', outDir];
  const { code, stdout, stderr } = await runBench([...common, '--cluster-file', clusterFile]);
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines).toEqual([
    expect.objectContaining({ name: 'moves.drain-resume-rebalance.keyed-600-per-s', kind: 'moves', errors: 0, latency_per: 'batch', drained_broker: 2 }),
  ]);
  const [moves] = lines;
  // Broker 2's partitions left it, and the rebalance brought it its share back.
  expect(moves!['partitions_moved']).toBeGreaterThanOrEqual(2);
  expect(moves!['msgs']).toBeGreaterThan(0);
  for (const field of ['p99_ms', 'drain_ms', 'resume_ms', 'rebalance_ms', 'batches_over_200_ms']) expect(moves![field]).toEqual(expect.any(Number));
  const brokers = (await (await fetch(`${cluster.gatewayUrl}/admin/brokers`, { headers: { authorization: `Bearer ${cluster.adminToken}` } })).json()) as {
    brokers: { broker_id: number; state: string; partitions: unknown[] }[];
  };
  expect(brokers.brokers.map((b) => [b.broker_id, b.state, b.partitions.length > 0])).toEqual([
    [1, 'alive', true],
    [2, 'alive', true],
  ]);

  const blind = await runBench(common);
  expect(blind.code).toBe(0);
  const [refused] = blind.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(refused).toMatchObject({ name: 'moves.drain-resume-rebalance.keyed-600-per-s', errors: 1, msgs: 0 });
  expect(refused!['first_error']).toContain('--cluster-file');
});
