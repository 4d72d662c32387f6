import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LIFELINE_FD_ENV, watchLifeline } from './lifeline.js';

// runService drives a real process here: a role's main() is about signals, exit codes and a
// parent that may vanish, which only a process of its own can show. The fixture is a service
// whose start and stop take the time the test asks and leave a line in a file when they finish.
jest.setTimeout(30_000);

const RUNTIME = resolve(__dirname, '../../dist/index.js');
const FIXTURE = `
  const { runService, ConfigError, createLogger } = require(${JSON.stringify(RUNTIME)});
  const { appendFileSync } = require('node:fs');
  const env = process.env;
  const wait = (ms) => new Promise((done) => setTimeout(done, ms));
  const keepAlive = setInterval(() => undefined, 1000); // a server's listening socket would
  const logger = env.LOG ? createLogger({ role: 'fixture', instanceId: 'fixture-1', format: 'json' }) : undefined;
  runService({
    role: 'fixture',
    graceMs: Number(env.GRACE_MS || 20000),
    loadConfig: () => {
      if (env.BAD_CONFIG) throw new ConfigError('INVALID_CONFIG', 'PARTQ_THING: not a number');
      return { startMs: Number(env.START_MS || 0), stopMs: Number(env.STOP_MS || 0) };
    },
    start: async (config) => {
      appendFileSync(env.MARKER, 'starting\\n'); // the signal handlers are in place from here on
      await wait(config.startMs);
      appendFileSync(env.MARKER, 'started\\n');
      process.stdout.write('ready\\n');
      return {
        stop: async () => {
          await wait(config.stopMs);
          // Written after the launcher's end of the pipes may be gone: must not crash the stop.
          process.stderr.write('fixture: stopped\\n');
          // As every role does: its last lines through its logger, just before the process exits
          // (the first is being written when the next comes, which then waits in the logger).
          logger?.info('fixture stopping');
          logger?.info('fixture stopped');
          appendFileSync(env.MARKER, 'stopped\\n');
          clearInterval(keepAlive);
        },
      };
    },
  });
`;

interface Fixture {
  child: ChildProcess;
  marker: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  ready: Promise<void>;
}

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function startFixture(env: Record<string, string> = {}, lifeline = true): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'partq-run-service-'));
  dirs.push(dir);
  const marker = join(dir, 'marker');
  const child = spawn(process.execPath, ['-e', FIXTURE], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', MARKER: marker, ...(lifeline ? { [LIFELINE_FD_ENV]: '3' } : {}), ...env },
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const ready = new Promise<void>((done, fail) => {
    child.stdout!.on('data', () => output.includes('ready') && done());
    void exited.then(() => fail(new Error(`the fixture exited before it was ready:\n${output}`)));
  });
  ready.catch(() => undefined); // awaited by the tests that need it; the others expect the exit
  return { child, marker, output: () => output, exited, ready };
}

function marks(fixture: Fixture): string[] {
  try {
    return readFileSync(fixture.marker, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
}

test('the launcher gone (its end of the lifeline and of stdout/stderr closed): a graceful stop, exit 0', async () => {
  const fixture = startFixture();
  await fixture.ready;
  // What the kernel does to a SIGKILLed launcher's descriptors; the child stays ours to watch.
  for (const stream of [fixture.child.stdio[3] as Socket, fixture.child.stdout!, fixture.child.stderr!]) stream.destroy();
  expect(await fixture.exited).toEqual({ code: 0, signal: null });
  expect(marks(fixture)).toEqual(['starting', 'started', 'stopped']);
});

test('the launcher gone while the role logs as it stops: it exits all the same, the lines nobody reads dropped', async () => {
  const fixture = startFixture({ LOG: '1' });
  await fixture.ready;
  for (const stream of [fixture.child.stdio[3] as Socket, fixture.child.stdout!, fixture.child.stderr!]) stream.destroy();
  // The logger's last line meets a pipe nobody reads: writing it must not hold the exit (it did, for ever).
  expect(await fixture.exited).toEqual({ code: 0, signal: null });
  expect(marks(fixture)).toEqual(['starting', 'started', 'stopped']);
});

test('SIGTERM: a graceful stop, exit 0', async () => {
  const fixture = startFixture();
  await fixture.ready;
  fixture.child.kill('SIGTERM');
  expect(await fixture.exited).toEqual({ code: 0, signal: null });
  expect(marks(fixture)).toEqual(['starting', 'started', 'stopped']);
  expect(fixture.output()).toContain('partq-fixture: SIGTERM, stopping');
});

test('SIGHUP stops it as SIGTERM does', async () => {
  const fixture = startFixture({}, false);
  await fixture.ready;
  fixture.child.kill('SIGHUP');
  expect(await fixture.exited).toEqual({ code: 0, signal: null });
  expect(marks(fixture)).toEqual(['starting', 'started', 'stopped']);
});

test('a second signal while the stop runs exits 1 at once', async () => {
  const fixture = startFixture({ STOP_MS: '20000' });
  await fixture.ready;
  fixture.child.kill('SIGTERM');
  await new Promise((done) => setTimeout(done, 200));
  fixture.child.kill('SIGINT');
  expect(await fixture.exited).toEqual({ code: 1, signal: null });
  expect(marks(fixture)).toEqual(['starting', 'started']);
  expect(fixture.output()).toContain('SIGINT while stopping; exiting now');
});

test('a stop longer than the grace period exits 1', async () => {
  const fixture = startFixture({ STOP_MS: '20000', GRACE_MS: '300' });
  await fixture.ready;
  fixture.child.kill('SIGTERM');
  expect(await fixture.exited).toEqual({ code: 1, signal: null });
  expect(fixture.output()).toContain('graceful stop took longer than 300 ms');
});

test('a signal during the start: the role finishes starting, then stops gracefully', async () => {
  const fixture = startFixture({ START_MS: '1500' });
  // A loaded machine may take longer than the start to launch node: wait until the start began.
  while (marks(fixture).length === 0 && fixture.child.exitCode === null) await new Promise((done) => setTimeout(done, 20));
  expect(marks(fixture)).toEqual(['starting']);
  fixture.child.kill('SIGTERM');
  expect(await fixture.exited).toEqual({ code: 0, signal: null });
  expect(marks(fixture)).toEqual(['starting', 'started', 'stopped']);
});

test('a bad configuration exits 2 with the reason, before anything starts', async () => {
  const fixture = startFixture({ BAD_CONFIG: '1' });
  expect(await fixture.exited).toEqual({ code: 2, signal: null });
  expect(fixture.output()).toBe('partq-fixture: PARTQ_THING: not a number\n');
  expect(marks(fixture)).toEqual([]);
});

describe('watchLifeline', () => {
  it('watches nothing without the variable, or with a descriptor of stdio', () => {
    const gone = jest.fn();
    expect(watchLifeline(gone, {})).toBe(false);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(watchLifeline(gone, { [LIFELINE_FD_ENV]: '1' })).toBe(false);
      expect(watchLifeline(gone, { [LIFELINE_FD_ENV]: 'three' })).toBe(false);
    } finally {
      stderr.mockRestore();
    }
    expect(gone).not.toHaveBeenCalled();
  });
});
