import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@partq/schema';
import { startLocalCluster } from '../cluster/local-cluster.js';
import { BenchError } from './bench-error.js';
import type { ClusterProcess } from './cpu-meter.js';

/** What the benchmark talks to and watches. */
export interface BenchTarget {
  gatewayUrl: string;
  /** Every gateway of the cluster, the first being `gatewayUrl`. */
  gatewayUrls: string[];
  /** One line for the report, e.g. "local cluster: 3 brokers, 1 replica, embedded PostgreSQL". */
  description: string;
  /** The cluster's role processes with their current pids (empty when unknown). */
  processes(): ClusterProcess[];
  /** Parent of the embedded PostgreSQL processes, when their CPU can be counted. */
  postgresAncestor: number | undefined;
  /** The cluster's PostgreSQL, when known (the hop floor commits positions there). */
  databaseUrl: string | undefined;
  /** The local cluster's data directory (WALs, logs); undefined for a running gateway (`--url`). */
  dataDir?: string;
  /** The gateway's admin token: the local cluster's, or the cluster file's with `--url`. */
  adminToken?: string;
  stop(): Promise<void>;
}

export interface LocalTargetOptions {
  brokers: number;
  replicas: number;
  /** Default 1. */
  gateways?: number;
  /** An existing PostgreSQL server: the bench makes (and drops) a database of its own on it. */
  databaseUrl: string | undefined;
  /** Keep the data directory (WALs, logs) after the run, and the database made on `databaseUrl`. */
  keepData: boolean;
  /** Write CPU profiles of every role into this directory. */
  profileDir: string | undefined;
  /** Extra environment for every role. */
  roleEnv: Record<string, string>;
  /** Restart a role that dies (the soak kills them); default false. */
  restart?: boolean;
  say: (message: string) => void;
}

/** A whole cluster on free ports, as `npm start` runs it, in a temporary directory. */
export async function startLocalTarget(options: LocalTargetOptions): Promise<BenchTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'partq-bench-'));
  // The embedded PostgreSQL runs as its own OS user when we are root: it must be able to enter the directory.
  chmodSync(dataDir, 0o755);
  let database: TestDatabase | undefined;
  const cleanUp = async (): Promise<void> => {
    if (options.keepData) {
      options.say(`data kept in ${dataDir}${database ? `, database ${database.url}` : ''}`);
      return;
    }
    await database?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    if (options.databaseUrl) {
      process.env['DATABASE_URL'] = options.databaseUrl; // createTestDatabase reads it
      database = await createTestDatabase();
    }
    const env: Record<string, string> = { PARTQ_LOG_LEVEL: 'warn', ...options.roleEnv };
    if (options.profileDir) {
      env['NODE_OPTIONS'] = `${process.env['NODE_OPTIONS'] ?? ''} --require ${join(__dirname, 'cpu-profile-preload.js')}`.trim();
      env['PARTQ_CPU_PROFILE_DIR'] = resolve(options.profileDir);
    }
    const cluster = await startLocalCluster({
      dataDir,
      brokers: options.brokers,
      replicas: options.replicas,
      gateways: options.gateways ?? 1,
      databaseUrl: database?.url,
      ports: 'auto',
      restart: options.restart ?? false,
      env: { all: env },
      onEvent: options.say,
    });
    return {
      gatewayUrl: cluster.gatewayUrl,
      gatewayUrls: cluster.gatewayUrls,
      description:
        `local cluster: ${options.brokers} broker(s), ${options.replicas} replica(s), ${options.gateways ?? 1} gateway(s), ` +
        `${database ? 'PostgreSQL from DATABASE_URL' : 'embedded PostgreSQL'}`,
      processes: () =>
        cluster.processes.flatMap((p) => (p.pid === undefined ? [] : [{ role: p.spec.role, name: p.name, pid: p.pid }])),
      // The embedded PostgreSQL is started by this process; an external one is not ours to see.
      postgresAncestor: database ? undefined : process.pid,
      databaseUrl: cluster.databaseUrl,
      dataDir,
      adminToken: cluster.adminToken,
      async stop() {
        await cluster.stop();
        await cleanUp();
      },
    };
  } catch (error) {
    await cleanUp();
    throw new BenchError('SETUP_FAILED', `could not start a local cluster: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

interface ClusterFile {
  gateway?: string;
  admin_token?: string;
  processes?: { role: string; id: number; pid: number | null }[];
}

/**
 * A running gateway (`--url`). With the cluster.json that `npm start` writes (`--cluster-file`),
 * the roles' CPU is measured too, and so is the embedded PostgreSQL started by the same launcher.
 */
export function attachTarget(url: string, clusterFile: string | undefined, databaseUrl: string | undefined): BenchTarget {
  let processes: ClusterProcess[] = [];
  let postgresAncestor: number | undefined;
  let adminToken: string | undefined;
  if (clusterFile) {
    let file: ClusterFile;
    try {
      file = JSON.parse(readFileSync(clusterFile, 'utf8')) as ClusterFile;
    } catch (error) {
      throw new BenchError('INVALID_OPTIONS', `cannot read the cluster file ${clusterFile}`, { cause: error });
    }
    processes = (file.processes ?? []).flatMap((p) => (p.pid === null ? [] : [{ role: p.role, name: `${p.role}-${p.id}`, pid: p.pid }]));
    postgresAncestor = launcherOf(processes[0]?.pid);
    adminToken = file.admin_token;
  }
  const gatewayUrl = url.replace(/\/+$/, '');
  return {
    gatewayUrl,
    gatewayUrls: [gatewayUrl],
    description: `running gateway at ${url}${clusterFile ? ` (processes from ${clusterFile})` : ''}`,
    processes: () => processes,
    postgresAncestor,
    databaseUrl,
    ...(adminToken === undefined ? {} : { adminToken }),
    stop: async () => undefined,
  };
}

/** Parent pid of a role process: the launcher, which also started the embedded PostgreSQL. */
function launcherOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}
