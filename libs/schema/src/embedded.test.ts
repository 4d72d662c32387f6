import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.js';
import { SchemaError } from './errors.js';
import { findFreePort } from './free-port.js';
import type { Logger } from './logger.js';
import { postmasterPidPath } from './postmaster-pid.js';
import { processStartTime, processState, waitForProcessExit } from './processes.js';

jest.setTimeout(60_000);

let root: string;
const started: EmbeddedPostgres[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'partq-embedded-test-'));
  await chmod(root, 0o755); // PostgreSQL runs as another OS user when the tests run as root
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function start(dataDir: string, options: { port?: number; logger?: Logger; durable?: boolean } = {}) {
  const server = await startEmbeddedPostgres({
    dataDir,
    port: options.port ?? (await findFreePort()),
    durable: options.durable ?? false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  started.push(server);
  return server;
}

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (message: string) => void lines.push(message);
  return { lines, debug: record, info: record, warn: record, error: record };
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const pid = spawnSync('true').pid;
  if (pid === undefined) throw new Error('could not spawn');
  return pid;
}

function stopped(server: EmbeddedPostgres): Promise<void> {
  started.splice(started.indexOf(server), 1);
  return server.stop();
}

test('creates the partq database in a new cluster and keeps data across stop and start', async () => {
  const dataDir = join(root, 'restart');
  const port = await findFreePort();
  const first = await start(dataDir, { port, durable: true });
  expect(first.url).toBe(`postgres://postgres:password@127.0.0.1:${port}/partq`);
  await query(first.url, 'create table kept (value text)');
  await query(first.url, 'insert into kept values ($1)', ['survives restarts']);
  await stopped(first);
  expect(processState(first.pid)).not.toBe('running');
  await expect(query(first.url, 'select 1')).rejects.toThrow();

  const second = await start(dataDir, { port, durable: true });
  expect(second.url).toBe(first.url);
  expect(await query(second.url, 'select value from kept')).toEqual([{ value: 'survives restarts' }]);
});

test('refuses a second server on a data dir this process already runs', async () => {
  const dataDir = join(root, 'twice');
  await start(dataDir);
  await expect(start(dataDir)).rejects.toMatchObject({ code: 'DATA_DIR_IN_USE' });
});

test('removes a stale postmaster.pid whose process is gone or is not PostgreSQL', async () => {
  const dataDir = join(root, 'stale-pid');
  await stopped(await start(dataDir));
  const sleeper = spawn('sleep', ['60']);
  try {
    for (const pid of [deadPid(), sleeper.pid ?? 0]) {
      // What a server killed with SIGKILL leaves behind; PostgreSQL itself refuses a lock whose pid is alive.
      await writeFile(postmasterPidPath(dataDir), `${pid}\n${dataDir}\n1700000000\n5432\n\n127.0.0.1\n0 0\nready   \n`);
      const server = await start(dataDir);
      expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
      await stopped(server);
    }
  } finally {
    sleeper.kill();
  }
});

test('recovers after the postmaster itself was killed with SIGKILL', async () => {
  const dataDir = join(root, 'postmaster-killed');
  const port = await findFreePort();
  const crashed = await start(dataDir, { port, durable: true });
  await query(crashed.url, 'create table kept (value text)');
  await query(crashed.url, 'insert into kept values ($1)', ['committed before the crash']);
  process.kill(crashed.pid, 'SIGKILL');
  expect(await waitForProcessExit(crashed.pid, 10_000)).toBe(true);
  // A supervisor learns of the death from `exited` (the launcher starts the server again on it).
  await expect(crashed.exited).resolves.toBeUndefined();
  started.splice(started.indexOf(crashed), 1);

  const recovered = await start(dataDir, { port, durable: true });
  expect(await query(recovered.url, 'select value from kept')).toEqual([{ value: 'committed before the crash' }]);
});

describe('a server left running by another owner', () => {
  // A second copy of the module stands in for another process: it has its own registry of servers.
  function isolatedModule(): typeof import('./embedded.js') {
    let isolated: typeof import('./embedded.js') | undefined;
    jest.isolateModules(() => {
      isolated = require('./embedded') as typeof import('./embedded.js');
    });
    if (isolated === undefined) throw new Error('module not loaded');
    return isolated;
  }

  async function startAsOtherOwner(dataDir: string, port: number): Promise<EmbeddedPostgres> {
    const server = await isolatedModule().startEmbeddedPostgres({ dataDir, port, durable: false });
    started.push(server);
    return server;
  }

  async function recordOwner(dataDir: string, pid: number): Promise<void> {
    const owner = { pid, startTime: processStartTime(pid) ?? null };
    await writeFile(join(dataDir, 'partq-owner.json'), JSON.stringify(owner));
  }

  test('is stopped and replaced when its owner is gone (e.g. SIGKILLed)', async () => {
    const dataDir = join(root, 'orphan');
    const port = await findFreePort();
    const orphan = await startAsOtherOwner(dataDir, port);
    await query(orphan.url, 'create table kept (value text)');
    await query(orphan.url, 'insert into kept values ($1)', ['outlives its owner']);
    await recordOwner(dataDir, deadPid());

    const logger = recordingLogger();
    const successor = await start(dataDir, { port, logger });
    expect(successor.pid).not.toBe(orphan.pid);
    expect(processState(orphan.pid)).not.toBe('running');
    expect(logger.lines.some((line) => line.includes(`stopping PostgreSQL (pid ${orphan.pid})`))).toBe(true);
    expect(await query(successor.url, 'select value from kept')).toEqual([{ value: 'outlives its owner' }]);
    started.splice(started.indexOf(orphan), 1);
  });

  test('is left alone while its owner lives', async () => {
    const dataDir = join(root, 'owned');
    const port = await findFreePort();
    const owned = await startAsOtherOwner(dataDir, port);
    let owner: ChildProcess | undefined;
    try {
      owner = spawn('sleep', ['60']);
      await recordOwner(dataDir, owner.pid ?? 0);
      const attempt = start(dataDir, { port });
      await expect(attempt).rejects.toBeInstanceOf(SchemaError);
      await expect(attempt).rejects.toMatchObject({ code: 'DATA_DIR_IN_USE' });
      expect(processState(owned.pid)).toBe('running');
    } finally {
      owner?.kill();
    }
  });
});

test('reports a port that is already taken', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((resolveListen) => blocker.listen(0, '127.0.0.1', resolveListen));
  const address = blocker.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  try {
    await expect(start(join(root, 'port-taken'), { port: address.port })).rejects.toMatchObject({
      code: 'PORT_IN_USE',
    });
  } finally {
    blocker.close();
  }
});

test('refuses a data dir holding something other than a cluster', async () => {
  const dataDir = join(root, 'not-a-cluster');
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, 'notes.txt'), 'not PostgreSQL');
  await expect(start(dataDir)).rejects.toMatchObject({ code: 'DATA_DIR_INVALID' });
});

const runningAsRoot = process.getuid?.() === 0;
(runningAsRoot ? test : test.skip)('explains a data dir the postgres OS user cannot reach', async () => {
  const privateDir = join(root, 'private');
  await mkdir(privateDir);
  await chmod(privateDir, 0o700);
  await expect(start(join(privateDir, 'nested', 'data'))).rejects.toMatchObject({ code: 'DATA_DIR_UNREACHABLE' });
});
