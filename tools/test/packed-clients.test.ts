import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

/*
 * The clients as a user gets them: `npm pack` each package (the clients, the core they share and the
 * CLI), install the tarballs together into an empty project outside the monorepo, and produce and consume through a real cluster from plain Node
 * (ESM, the README's way), from type-checked TypeScript, and with the `partq` bin. Nothing of the
 * monorepo may be needed.
 */
jest.setTimeout(90_000);

const run = promisify(execFile);
const packages = ['client-core', 'producer', 'consumer', 'cli'] as const;
/** Where each package lives (the path, not require.resolve: @partq/cli may not be linked yet). */
const packageDir = (name: string) => join(__dirname, '..', '..', 'libs', name);
/** What each package may depend on of the monorepo: the core nothing, the clients the core, the CLI the clients. */
const allowedWorkspaceDependencies: Record<(typeof packages)[number], string[]> = {
  'client-core': [],
  producer: ['@partq/client-core'],
  consumer: ['@partq/client-core'],
  cli: ['@partq/consumer', '@partq/producer'],
};

let cluster: TestCluster;
let work: string;
let app: string;

interface PackResult {
  filename: string;
  files: { path: string }[];
}

async function npm(args: string[], cwd: string): Promise<string> {
  // The npm cache already holds the clients' dependencies: no registry round trip is needed.
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'partq-packed-'));
  app = join(work, 'app');
  cluster = await startTestCluster({ brokers: 1, replicas: 1 });
});

afterAll(async () => {
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

test('npm pack: each tarball holds built code, types and docs, and depends on nothing else of the monorepo', async () => {
  for (const name of packages) {
    const [packed] = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], packageDir(name))) as PackResult[];
    const paths = packed!.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts']));
    // The core carries its own copy of the protocol code; the clients and the CLI get it through it.
    expect(paths.some((p) => p.startsWith('dist/gen/partq/v1/'))).toBe(name === 'client-core');
    expect(paths.filter((p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'CHANGELOG.md'].includes(p))).toEqual([]);
    // Neither tests, source maps nor tsc's build state (dist/tsconfig.lib.tsbuildinfo) ship.
    expect(paths.filter((p) => p.includes('.test.') || p.endsWith('.map') || p.endsWith('.tsbuildinfo'))).toEqual([]);

    const manifest = JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as {
      private?: boolean;
      dependencies: Record<string, string>;
      exports: Record<string, unknown>;
    };
    expect(Object.keys(manifest.dependencies).filter((d) => d.startsWith('@partq/')).sort()).toEqual(allowedWorkspaceDependencies[name]);
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.private).toBeUndefined();
  }
});

test('installed into an empty project, the clients produce and consume through a cluster', async () => {
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'partq-packed-check', private: true, version: '1.0.0' }));
  await npm(['install', ...packages.map((name) => join(work, `partq-${name}-0.1.0.tgz`))], app);
  const installed = (await npm(['ls', '--all', '--parseable'], app)).split('\n').filter(Boolean);
  expect(installed.filter((path) => path.includes('@partq/proto'))).toEqual([]);

  writeFileSync(
    join(app, 'check.mjs'),
    `import { Producer } from '@partq/producer';
import { Consumer } from '@partq/consumer';

const urls = [process.argv[2]];
const producer = new Producer({ urls });
const consumer = new Consumer({ urls });
await producer.createTopic('packed', { partitions: 2 });
await consumer.register('packed', { from: 'earliest' });
const results = await producer.send('packed', Array.from({ length: 20 }, (_, i) => 'm' + i));
const received = [];
for await (const message of consumer.messages('packed')) {
  received.push(message.text());
  if (received.length === results.length) break;
}
await producer.close();
await consumer.close();
console.log(JSON.stringify({ sent: results.length, received }));
`,
  );
  const { stdout } = await run(process.execPath, ['check.mjs', cluster.gatewayUrl], { cwd: app, timeout: 30_000 });
  const outcome = JSON.parse(stdout) as { sent: number; received: string[] };
  expect(outcome.sent).toBe(20);
  expect(outcome.received.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());

  // CommonJS works too, and the types resolve through the exports map for a TypeScript user.
  const requireBoth = "console.log(typeof require('@partq/producer').Producer, typeof require('@partq/consumer').Consumer)";
  const { stdout: cjs } = await run(process.execPath, ['-e', requireBoth], { cwd: app });
  expect(cjs.trim()).toBe('function function');
  writeFileSync(
    join(app, 'check.ts'),
    `import { Producer, type SendResult } from '@partq/producer';
import { Consumer, type ConsumedMessage } from '@partq/consumer';
export async function roundTrip(url: string): Promise<[SendResult, ConsumedMessage | null]> {
  const producer = new Producer({ urls: [url], acks: 'all' });
  const consumer = new Consumer({ urls: [url] });
  return [await producer.send('packed', 'typed'), await consumer.dequeue('packed')];
}
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'node16',
        moduleResolution: 'node16',
        target: 'es2022',
        strict: true,
        noEmit: true,
        // A Node project has @types/node; borrow the monorepo's rather than install it.
        typeRoots: [join(dirname(require.resolve('@types/node/package.json')), '..')],
        types: ['node'],
      },
      files: ['check.ts'],
    }),
  );
  await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', app], { cwd: app });

  // The bin, linked by npm as a user gets it.
  const partq = join(app, 'node_modules', '.bin', 'partq');
  const { stdout: topics } = await run(partq, ['topics', 'list', '--url', cluster.gatewayUrl], { cwd: app });
  expect(topics.split('\n')).toContain('packed');
  const { stdout: size } = await run(partq, ['size', 'packed', '--url', cluster.gatewayUrl], { cwd: app });
  expect(Number(size)).toBeGreaterThanOrEqual(0);
});

/**
 * The README's client example, as a user pastes it into the project the test above installed the
 * clients into. Node 20 cannot parse `await using` yet, so those become `const` with a close at the
 * end; the loop stops after the first message, and the URL is this cluster's.
 */
test("the README's client example runs as written", async () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  // The section's first TypeScript block (how to install the clients comes before it).
  const example = /## Clients\n(?:(?!\n## )[\s\S])*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  const script = example!
    .replaceAll('await using ', 'const ')
    .replaceAll('http://127.0.0.1:8080', cluster.gatewayUrl)
    .replace(/^(for await \(.*\)) (console\.log\(.*\));$/m, '$1 { $2; break; }');
  expect(script).toContain('break;');
  writeFileSync(join(app, 'readme.mjs'), `${script}await producer.close();\nawait consumer.close();\n`);
  // Without colours: under FORCE_COLOR (which a test runner may pass down) console.log wraps numbers in escape codes.
  const { FORCE_COLOR: _colour, ...env } = process.env;
  const { stdout } = await run(process.execPath, ['readme.mjs'], { cwd: app, timeout: 30_000, env: { ...env, NO_COLOR: '1' } });
  expect(stdout.trim()).toMatch(/^\d+ 0 \{"id":1\}$/);
});
