import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('--help lists the flags', async () => {
  const { code, stdout } = await runBench(['--help']);
  expect(code).toBe(0);
  expect(stdout).toContain('--url');
  expect(stdout).toContain('--quick');
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
      'produce.client.pipelined.100B.acks-broker',
      'produce.client.one-at-a-time.100B.acks-all',
      'http-baseline.bare-fastify.100B',
      'produce.rest.one-per-request.100B.acks-broker',
      'consume.client.batch-100.100B',
      'e2e-latency.fixed-rate-200-per-s.100B',
      'broker-rss.whole-run',
    ]),
  );
  // Every measurement really moved messages, and the cluster's CPU was visible through the cluster file.
  for (const m of measurements.filter((x) => x['kind'] !== 'broker-rss' && x['kind'] !== 'idle')) expect(m['msgs']).toBeGreaterThan(0);
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
