import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@partq/schema';

// `npm start`'s launcher as a terminal runs it: a process group of its own, stopped by a Ctrl-C
// that reaches the whole group, or by the terminal closing. Every role must end its graceful stop
// (code 0, no fatal line) and nothing may be left running; the embedded PostgreSQL stops last.
jest.setTimeout(120_000);

const LAUNCHER = resolve(__dirname, '../dist/cluster/main.js');

interface Launched {
  launcher: ChildProcess;
  dataDir: string;
  /** What the launcher printed so far. */
  output: () => string;
  exited: Promise<number | null>;
  database?: TestDatabase;
}

const launched: Launched[] = [];

afterEach(async () => {
  for (const run of launched.splice(0)) {
    if (run.launcher.exitCode === null && run.launcher.signalCode === null) {
      run.launcher.kill('SIGTERM');
      await run.exited;
    }
    await run.database?.drop();
    rmSync(run.dataDir, { recursive: true, force: true });
  }
});

/** Starts the launcher as a terminal's foreground job (its own process group) and waits until it is ready. */
async function launch(dataDir = mkdtempSync(join(tmpdir(), 'partq-launcher-')), env: Record<string, string> = {}): Promise<Launched> {
  // The embedded PostgreSQL runs as its own OS user when we are root: it must reach its directory.
  chmodSync(dataDir, 0o755);
  // Against the machine's PostgreSQL (CI's second pass) on a fresh database; otherwise embedded, the case that matters most.
  const database = process.env['DATABASE_URL'] ? await createTestDatabase() : undefined;
  const launcher = spawn(process.execPath, [LAUNCHER, '--data-dir', dataDir, '--any-ports'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PARTQ_LOG_LEVEL: 'info', ...(database ? { DATABASE_URL: database.url } : { DATABASE_URL: '' }), ...env },
  });
  const exited = new Promise<number | null>((resolveExit) => launcher.once('exit', (code) => resolveExit(code)));
  let output = '';
  const run: Launched = { launcher, dataDir, output: () => output, exited, ...(database ? { database } : {}) };
  launched.push(run);
  await new Promise<void>((ready, fail) => {
    const look = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ctrl-C stops everything')) ready();
    };
    launcher.stdout!.on('data', look);
    launcher.stderr!.on('data', look);
    void exited.then((code) => fail(new Error(`the launcher exited (${code}) before it was ready:\n${output}`)));
  });
  return run;
}

function clusterPids(dataDir: string): number[] {
  const file = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as { processes: { pid: number | null }[] };
  return file.processes.map((p) => p.pid).filter((pid): pid is number => pid !== null);
}

/** The embedded PostgreSQL's pid, from its lock file (first line). */
function postgresPid(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What each role's log says last, and the lines a clean stop must not have. */
function roleEndings(dataDir: string): { endings: string[]; failures: string[] } {
  const logs = readdirSync(join(dataDir, 'logs')).filter((name) => name.endsWith('.log'));
  const lines = logs.map((name) => readFileSync(join(dataDir, 'logs', name), 'utf8').trim().split('\n'));
  return {
    endings: lines.map((log) => log.at(-1)!.replace(/ \(pid \d+\)/, '')).sort(),
    // Fatal and error lines, and the warning a manager gave when the brokers it syncs stopped first.
    failures: lines.flat().filter((line) => /"level":"(fatal|error)"/.test(line) || (/"level":"warn"/.test(line) && line.includes('broker sync failed'))),
  };
}

async function expectCleanStop(run: Launched, roles: string[], stopsPostgres: boolean): Promise<void> {
  expect(await run.exited).toBe(0);
  const { endings, failures } = roleEndings(run.dataDir);
  expect(endings).toEqual(roles.map((role) => `[partq] ${role} exited: code 0`));
  expect(failures).toEqual([]);
  if (stopsPostgres) expect(postgresPid(run.dataDir)).toBeUndefined();
}

const ROLES = ['broker-1', 'broker-2', 'broker-3', 'gateway-1', 'manager-1', 'replica-1'];

test('Ctrl-C in the terminal (SIGINT to the whole group): every role stops gracefully, PostgreSQL last, nothing left', async () => {
  const run = await launch();
  const pids = clusterPids(run.dataDir);
  const pg = postgresPid(run.dataDir);
  expect(pids).toHaveLength(ROLES.length);
  process.kill(-run.launcher.pid!, 'SIGINT');
  await expectCleanStop(run, ROLES, run.database === undefined);
  expect([...pids, ...(pg === undefined ? [] : [pg])].filter(alive)).toEqual([]);
});

test('the terminal closing (SIGHUP to the launcher) stops the cluster the same way', async () => {
  // (And an admin token of one's own, from the environment, is the one the gateway takes.)
  const run = await launch(undefined, { PARTQ_ADMIN_TOKEN: 'token-of-my-own' });
  expect(run.output()).toContain('Bearer token-of-my-own');
  expect(JSON.parse(readFileSync(join(run.dataDir, 'cluster.json'), 'utf8'))).toMatchObject({ admin_token: 'token-of-my-own' });
  const pids = clusterPids(run.dataDir);
  process.kill(run.launcher.pid!, 'SIGHUP');
  await expectCleanStop(run, ROLES, run.database === undefined);
  expect(pids.filter(alive)).toEqual([]);
});

async function gone(pids: number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 200));
  return pids.filter(alive);
}

test('a SIGKILLed launcher leaves no role running, and the next start stops the PostgreSQL it left', async () => {
  const run = await launch();
  const pids = clusterPids(run.dataDir);
  const pg = postgresPid(run.dataDir);
  process.kill(run.launcher.pid!, 'SIGKILL');
  await run.exited;
  // Each role sees its lifeline close and stops gracefully (a broker's stop may wait out its manager's).
  expect(await gone(pids, 30_000)).toEqual([]);
  if (run.database !== undefined) return;
  // Nothing can stop the embedded PostgreSQL on the spot (it is not ours to change); the next start
  // finds it on the data directory, stops it and says so, then starts as usual.
  expect(pg !== undefined && alive(pg)).toBe(true);
  const again = await launch(run.dataDir);
  expect(again.output()).toContain(`stopping PostgreSQL (pid ${pg}) left running on`);
  expect(alive(pg!)).toBe(false);
  process.kill(-again.launcher.pid!, 'SIGINT');
  expect(await again.exited).toBe(0);
});
