import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.js';
import { SchemaError } from './errors.js';
import { findFreePort } from './free-port.js';
import { processStartTime, processState } from './processes.js';

/**
 * One throwaway PostgreSQL per test process, shared by every test file that process runs.
 *
 * Jest gives each test file its own module registry, so module state cannot carry the server
 * from one file to the next; the file system can. The server lives in a directory named after
 * this process (pid and start time) with a record of its URL, and later test files in the same
 * process find it there. A detached watchdog stops the server and deletes the directory once
 * this process is gone, however it ends (normal exit, crash or SIGKILL).
 */
const ROOT = join(tmpdir(), 'partq-test-postgres');
const RECORD = 'server.json';

interface ServerRecord {
  url: string;
  pid: number;
}

let shared: Promise<string> | undefined;

/** URL (to its `postgres` database) of this process's test server, started on first use. */
export function sharedTestServerUrl(): Promise<string> {
  shared ??= findOrStartServer().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

async function findOrStartServer(): Promise<string> {
  const identity = [process.pid, processStartTime(process.pid)].filter((part) => part !== undefined).join('-');
  const dir = join(ROOT, identity);
  const existing = readRecord(join(dir, RECORD));
  if (existing !== undefined && processState(existing.pid) === 'running' && (await answers(existing.url))) {
    return existing.url;
  }

  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // Sticky and world-writable like /tmp, so other OS users' test runs can add their own dirs.
  await chmod(ROOT, 0o1777).catch(() => undefined);
  await chmod(dir, 0o755);

  const server = await startOnFreePort(join(dir, 'data'));
  startWatchdog(server.pid, dir);
  const record: ServerRecord = { url: server.url, pid: server.pid };
  await writeFile(join(dir, RECORD), JSON.stringify(record));
  return server.url;
}

async function startOnFreePort(dataDir: string): Promise<EmbeddedPostgres> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEmbeddedPostgres({
        dataDir,
        port: await findFreePort(),
        database: 'postgres',
        durable: false,
        ref: false,
        // Test files that leak pools should not starve the ones after them.
        settings: { max_connections: '300' },
      });
    } catch (error) {
      // Another process may grab the port between our probe and PostgreSQL's bind.
      if (!(error instanceof SchemaError && error.code === 'PORT_IN_USE') || attempt >= 5) throw error;
    }
  }
}

/** A detached shell that outlives this process: waits for it to end, stops the server, cleans up. */
function startWatchdog(postgresPid: number, dir: string): void {
  const script = `
    owner=$1; pg=$2; dir=$3
    running() {
      kill -0 "$1" 2>/dev/null || return 1
      [ -r "/proc/$1/stat" ] || return 0
      state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
      [ "$state" != Z ]
    }
    while kill -0 "$owner" 2>/dev/null; do sleep 1; done
    for signal in INT QUIT KILL; do
      kill -$signal "$pg" 2>/dev/null
      i=0
      while running "$pg" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
      running "$pg" || break
    done
    rm -rf "$dir"
  `;
  const args = [String(process.pid), String(postgresPid), dir];
  const watchdog = spawn('sh', ['-c', script, 'partq-test-postgres-watchdog', ...args], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
}

function readRecord(path: string): ServerRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServerRecord>;
    return typeof record.url === 'string' && typeof record.pid === 'number'
      ? { url: record.url, pid: record.pid }
      : undefined;
  } catch {
    return undefined;
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
