import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

// The built `partq` bin as a user runs it: a real process against a real cluster.
jest.setTimeout(120_000);

const cliDir = join(__dirname, '..', '..', 'libs', 'cli');
const bin = join(cliDir, (JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8')) as { bin: { partq: string } }).bin.partq);

let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'partq-cli-'));
  cluster = await startTestCluster({ brokers: 3, replicas: 1 });
});

afterAll(async () => {
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command ...args` with PARTQ_URL set to the test cluster, feeding `input` on stdin. */
function run(command: string, args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, PARTQ_URL: cluster.gatewayUrl } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(input);
  });
}

/** Runs `partq ...args` against the test cluster. */
function partq(args: string[], input = ''): Promise<Run> {
  return run(process.execPath, [bin, ...args], input);
}

interface Line {
  topic: string;
  partition: number;
  offset: number;
  value: string;
  timestamp: string;
  key?: string;
}

function jsonLines(stdout: string): Line[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

function expectOffsetOrder(lines: Line[]): void {
  const last = new Map<number, number>();
  for (const l of lines) {
    expect(l.offset).toBeGreaterThan(last.get(l.partition) ?? -1);
    last.set(l.partition, l.offset);
  }
}

test('topics create and list', async () => {
  expect(await partq(['topics', 'create', 'cli-lines', '--partitions', '3'])).toMatchObject({ code: 0, stdout: 'created topic cli-lines\n' });
  const again = await partq(['topics', 'create', 'cli-lines']);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('ALREADY_EXISTS');
  const list = await partq(['topics', 'list']);
  expect(list.code).toBe(0);
  expect(list.stdout.split('\n')).toContain('cli-lines');

  const limited = await partq(['topics', 'create', 'cli-limited', '--retention-ms', '86400000', '--retention-bytes', '1000000000']);
  expect(limited).toMatchObject({ code: 0, stdout: 'created topic cli-limited\n' });
  const describe = await partq(['topics', 'describe', 'cli-limited']);
  expect(describe.code).toBe(0);
  const described = JSON.parse(describe.stdout) as { topic: unknown; partitions: unknown[] };
  expect(described.topic).toMatchObject({ name: 'cli-limited', retention_ms: 86_400_000, retention_bytes: 1_000_000_000 });
  expect(described.partitions).toHaveLength(3);
  expect(described.partitions[0]).toMatchObject({ partition_id: 0, start_offset: 0, end_offset: 0, stored_bytes: 0 });
  expect(await partq(['topics', 'describe', 'no-such-topic'])).toMatchObject({ code: 1 });
});

test('produce 1000 lines from a file, size, then consume them back as JSON lines', async () => {
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
  const file = join(work, 'lines.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);

  const produced = await partq(['produce', 'cli-lines', '--file', file]);
  expect(produced.code).toBe(0);
  expect(produced.stdout).toBe('');
  expect(produced.stderr).toContain('produced 1000 messages to cli-lines');

  expect(await partq(['size', 'cli-lines'])).toMatchObject({ code: 0, stdout: '1000\n' });

  const consumed = await partq(['consume', 'cli-lines']);
  expect(consumed.code).toBe(0);
  const got = jsonLines(consumed.stdout);
  expect(got).toHaveLength(1000);
  expect(got.map((l) => l.value).sort()).toEqual([...lines].sort());
  for (const l of got) {
    expect(Object.keys(l).sort()).toEqual(['offset', 'partition', 'timestamp', 'topic', 'value']);
    expect(l.topic).toBe('cli-lines');
    expect(new Date(l.timestamp).toISOString()).toBe(l.timestamp);
  }
  // Keyless lines go one partition for a while, a batch at a time (one batch on the wire at a time): in every partition the
  // lines are in file order.
  const byPartition = new Map<number, Line[]>();
  for (const l of got) byPartition.set(l.partition, [...(byPartition.get(l.partition) ?? []), l]);
  for (const records of byPartition.values()) {
    const positions = records.sort((a, b) => a.offset - b.offset).map((l) => lines.indexOf(l.value));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  }
  expectOffsetOrder(got);
});

test('produce from stdin with a key; empty lines are skipped', async () => {
  const produced = await partq(['produce', 'cli-stdin', '--key', 'customer-7', '--acks', 'all', '--quiet'], 'a\n\nb\r\nc');
  expect(produced).toMatchObject({ code: 0, stdout: '', stderr: '' });
  const consumed = await partq(['consume', 'cli-stdin', '--from', 'earliest']);
  const got = jsonLines(consumed.stdout);
  expect(got.map((l) => l.value)).toEqual(['a', 'b', 'c']);
  // One key, one partition: the order of the input.
  expect(new Set(got.map((l) => l.partition)).size).toBe(1);
  expect(got.every((l) => l.key === 'customer-7')).toBe(true);
  expect(await partq(['produce', 'cli-stdin'], 'one more')).toMatchObject({ code: 0, stderr: 'produced 1 message to cli-stdin\n' });
});

test('consume --follow prints new messages as they come and ends cleanly on SIGINT', async () => {
  await partq(['produce', 'cli-follow', '--quiet'], 'before-1\nbefore-2\n');
  const follow = spawn(process.execPath, [bin, 'consume', 'cli-follow', '--follow'], { env: { ...process.env, PARTQ_URL: cluster.gatewayUrl } });
  const exited = new Promise<number | null>((resolve) => follow.on('close', resolve));
  const seen: string[] = [];
  const reader = createInterface({ input: follow.stdout });
  // Every line is kept, also those printed while no wait is running (messages arrive as soon as they are produced).
  const arrived = new Set<() => void>();
  reader.on('line', (line: string) => {
    seen.push((JSON.parse(line) as Line).value);
    for (const check of arrived) check();
  });
  const waitFor = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        arrived.delete(check);
        reject(new Error(`waited 60 s for ${count} lines, saw ${JSON.stringify(seen)}`));
      }, 60_000);
      const check = () => {
        if (seen.length >= count) {
          clearTimeout(timer);
          arrived.delete(check);
          resolve();
        }
      };
      arrived.add(check);
      check();
    });

  try {
    await waitFor(2);
    expect((await partq(['produce', 'cli-follow', '--quiet'], 'after-1\nafter-2\nafter-3\n')).code).toBe(0);
    await waitFor(5);
  } finally {
    // Also when a wait failed: a follower left running would keep the test run alive.
    follow.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  expect(seen.sort()).toEqual(['after-1', 'after-2', 'after-3', 'before-1', 'before-2']);
});

test('brokers and health print the gateway JSON', async () => {
  const brokers = await partq(['brokers']);
  expect(brokers.code).toBe(0);
  expect(JSON.parse(brokers.stdout)).toMatchObject({ status: 'success', brokers: expect.any(Array) });
  expect((JSON.parse(brokers.stdout) as { brokers: unknown[] }).brokers).toHaveLength(3);
  const health = await partq(['health']);
  expect(health.code).toBe(0);
  expect(JSON.parse(health.stdout)).toMatchObject({ status: 'success', brokers: expect.any(Array), consumers: expect.any(Array) });
});

test('errors: an unknown topic exits 1, a wrong call exits 2', async () => {
  const missing = await partq(['consume', 'no-such-topic']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe("partq: topic 'no-such-topic' does not exist (NOT_FOUND)\n");
  expect((await partq(['size', 'no-such-topic'])).code).toBe(1);
  // A failure of the REST calls (size, brokers, health) is worded as the clients' are.
  const stranger = await partq(['size', 'cli-lines', '--consumer-id', '987654']);
  expect({ code: stranger.code, stderr: stranger.stderr }).toEqual({ code: 1, stderr: "partq: consumer 987654 is not registered (consumers idle past the cluster's expiry are removed) (NOT_FOUND)\n" });
  expect((await partq(['consume'])).code).toBe(2);
});

test('consume into a pipe that closes early (| head -1) ends quietly', async () => {
  // Far more output than a pipe holds, so the writes meet the closed pipe (EPIPE).
  const input = Array.from({ length: 3000 }, (_, i) => `pipe ${i} ${'y'.repeat(100)}`).join('\n');
  expect((await partq(['produce', 'cli-pipe', '--quiet'], input)).code).toBe(0);
  const script = `"${process.execPath}" "${bin}" consume cli-pipe | head -n 1; exit "\${PIPESTATUS[0]}"`;
  const piped = await run('bash', ['-c', script]);
  expect(piped.stderr).toBe('');
  expect(piped.code).toBe(0);
  expect(jsonLines(piped.stdout)).toHaveLength(1);
});
