import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { resolveDatabaseUrl, type ResolvedDatabase } from '@partq/schema';
import { freePort } from './free-port.js';
import { RoleProcess, type Role } from './role-process.js';
import { waitReady } from './wait-ready.js';

export interface LocalClusterOptions {
  /** Where the embedded PostgreSQL, WALs, logs and cluster.json live. */
  dataDir?: string;
  brokers?: number;
  /** Managers: the first becomes active, the others wait as standbys (default 1). */
  managers?: number;
  replicas?: number;
  gateways?: number;
  /** An existing PostgreSQL; otherwise an embedded one is started under dataDir. */
  databaseUrl?: string;
  embeddedPostgresPort?: number;
  /** Fixed ports (npm start) or any free ones (tests). */
  ports?: { manager: number; gateway: number; brokerBase: number; replicaBase: number } | 'auto';
  /** Restart a role process, or the embedded PostgreSQL, that dies (default true). */
  restart?: boolean;
  /** Extra environment per role, e.g. shorter timeouts in tests. */
  env?: Partial<Record<Role | 'all', Record<string, string>>>;
  echo?: NodeJS.WritableStream;
  onEvent?: (message: string) => void;
  /** Bearer token of the gateways' admin API (default: a random one, written to cluster.json). */
  adminToken?: string;
  /**
   * Every process (roles and the embedded PostgreSQL) in a process group of its own (`npm start`):
   * a terminal's Ctrl-C, sent to the whole foreground group, then reaches only the launcher, which
   * stops the roles in order and PostgreSQL last (otherwise PostgreSQL, hearing Ctrl-C itself, shuts
   * down under a manager still using it). Those left running when this process exits get SIGTERM.
   * Default false.
   */
  ownProcessGroups?: boolean;
}

export interface LocalCluster {
  gatewayUrl: string;
  gatewayUrls: string[];
  managerUrl: string;
  databaseUrl: string;
  /** The Central DB: a URL given, or the embedded PostgreSQL (restarted if it dies, with `restart`). */
  database: ResolvedDatabase;
  adminToken: string;
  dataDir: string;
  processes: RoleProcess[];
  find(role: Role, id?: number): RoleProcess;
  /** Starts another broker at run time (it joins through the manager). */
  addBroker(): Promise<RoleProcess>;
  stop(): Promise<void>;
}

const FIXED_PORTS = { manager: 7000, gateway: 8080, brokerBase: 7101, replicaBase: 7201 };

function entryPoint(role: Role): string {
  return join(dirname(require.resolve(`@partq/${role}/package.json`)), 'dist', 'main.js');
}

/**
 * A whole partq cluster on this machine, each role its own OS process: PostgreSQL
 * (embedded unless a URL is given), the manager, brokers, replicas and gateways.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const dataDir = resolve(options.dataDir ?? '.partq');
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const say = options.onEvent ?? (() => undefined);
  const restart = options.restart ?? true;
  const auto = options.ports === 'auto';
  const ports = options.ports === 'auto' ? undefined : (options.ports ?? FIXED_PORTS);
  const port = async (fixed: number | undefined): Promise<number> => fixed ?? freePort();

  const database = await resolveDatabaseUrl({
    databaseUrl: options.databaseUrl,
    dataDir: join(dataDir, 'postgres'),
    port: options.embeddedPostgresPort ?? (auto ? await freePort() : 54329),
    // The embedded PostgreSQL is supervised like the roles: a restart keeps its port, so its URL holds.
    ...(restart ? { onRestart: say } : {}),
    ownProcessGroup: options.ownProcessGroups ?? false,
    // What needs a person's attention (a server left running by a launcher that was killed) is said.
    logger: { debug: () => undefined, info: () => undefined, warn: say, error: say },
  });
  say(database.embedded ? `embedded PostgreSQL ready (${join(dataDir, 'postgres')})` : 'using PostgreSQL from DATABASE_URL');

  const adminToken = options.adminToken ?? randomBytes(16).toString('hex');
  const processes: RoleProcess[] = [];
  // In groups of their own the roles no longer hear the terminal: whatever ends this process ends them.
  const terminateRoles = (): void => processes.forEach((p) => p.terminateNow());
  if (options.ownProcessGroups) process.on('exit', terminateRoles);
  let stopping = false;
  const envFor = (role: Role): Record<string, string> => ({ ...options.env?.all, ...options.env?.[role] });

  const writeClusterFile = (): void => {
    const file = {
      gateway: gatewayUrls[0],
      admin_token: adminToken,
      processes: processes.map((p) => ({ role: p.spec.role, id: p.spec.id, pid: p.pid ?? null, url: p.spec.url })),
    };
    writeFileSync(join(dataDir, 'cluster.json'), `${JSON.stringify(file, null, 2)}\n`);
  };

  const launch = async (
    role: Role,
    id: number,
    portNumber: number,
    env: Record<string, string>,
    readyPath?: '/readyz' | '/healthz',
  ): Promise<RoleProcess> => {
    const url = `http://127.0.0.1:${portNumber}`;
    const child = new RoleProcess({
      role,
      id,
      script: entryPoint(role),
      url,
      env: { ...env, ...envFor(role) },
      logDir,
      echo: options.echo,
      readyPath,
      ownProcessGroup: options.ownProcessGroups ?? false,
    });
    processes.push(child);
    child.onExit((code, signal) => {
      writeClusterFile();
      if (stopping || !restart) return;
      say(`${child.name} exited (${signal ?? code}); restarting`);
      setTimeout(() => {
        if (stopping) return;
        child
          .start()
          .then(() => {
            say(`${child.name} restarted (pid ${child.pid})`);
            writeClusterFile();
          })
          .catch((error: unknown) => say(`${child.name} failed to restart: ${String(error)}`));
      }, 500);
    });
    await child.start();
    say(`${child.name} ready at ${url} (pid ${child.pid})`);
    return child;
  };

  const managerPorts: number[] = [];
  for (let i = 0; i < (options.managers ?? 1); i++) managerPorts.push(await port(ports ? ports.manager + i : undefined));
  // Every other role gets the whole list and fails over to whichever manager is active.
  const managerUrl = managerPorts.map((p) => `http://127.0.0.1:${p}`).join(',');
  const gatewayUrls: string[] = [];
  let brokerCount = 0;

  const startBroker = async (): Promise<RoleProcess> => {
    brokerCount++;
    const p = await port(ports ? ports.brokerBase + brokerCount - 1 : undefined);
    return launch('broker', brokerCount, p, {
      PARTQ_BROKER_PORT: String(p),
      PARTQ_BROKER_DATA_DIR: join(dataDir, `broker-${brokerCount}`),
      PARTQ_MANAGER_URL: managerUrl,
    });
  };

  try {
    for (const [i, managerPort] of managerPorts.entries()) {
      const env = { PARTQ_MANAGER_PORT: String(managerPort), PARTQ_MANAGER_DATA_DIR: join(dataDir, `manager-${i + 1}`), DATABASE_URL: database.url };
      // A manager may come up as a standby (another holds the lock), so "up" is what a (re)start waits for.
      const manager = await launch('manager', i + 1, managerPort, env, '/healthz');
      // The first one becomes active before anything else starts.
      if (i === 0) await waitReady(manager.spec.url, { timeoutMs: 60_000, exited: () => !manager.running });
    }
    for (let i = 0; i < (options.brokers ?? 3); i++) await startBroker();
    for (let i = 1; i <= (options.replicas ?? 1); i++) {
      const p = await port(ports ? ports.replicaBase + i - 1 : undefined);
      await launch('replica', i, p, { PARTQ_REPLICA_PORT: String(p), PARTQ_MANAGER_URL: managerUrl, DATABASE_URL: database.url });
    }
    for (let i = 1; i <= (options.gateways ?? 1); i++) {
      const p = await port(ports ? ports.gateway + i - 1 : undefined);
      await launch('gateway', i, p, { PARTQ_GATEWAY_PORT: String(p), PARTQ_MANAGER_URL: managerUrl, PARTQ_ADMIN_TOKEN: adminToken });
      gatewayUrls.push(`http://127.0.0.1:${p}`);
    }
  } catch (error) {
    stopping = true;
    await Promise.all(processes.map((p) => p.stop()));
    process.off('exit', terminateRoles);
    await database.stop();
    throw error;
  }
  writeClusterFile();

  return {
    gatewayUrl: gatewayUrls[0]!,
    gatewayUrls,
    managerUrl,
    databaseUrl: database.url,
    database,
    adminToken,
    dataDir,
    processes,
    find(role, id = 1) {
      const found = processes.find((p) => p.spec.role === role && p.spec.id === id);
      if (!found) throw new Error(`no ${role}-${id} in this cluster`);
      return found;
    },
    async addBroker() {
      const broker = await startBroker();
      writeClusterFile();
      return broker;
    },
    async stop() {
      stopping = true;
      // Clients first, then the data plane, then the control plane: nothing in flight is cut off.
      const order: Role[] = ['gateway', 'replica', 'broker', 'manager'];
      for (const role of order) {
        await Promise.all(
          processes
            .filter((p) => p.spec.role === role)
            .map(async (p) => {
              if ((await p.stop()) === 'killed') say(`${p.name} did not stop within its grace period after SIGTERM; killed (see its log)`);
            }),
        );
      }
      process.off('exit', terminateRoles);
      writeClusterFile();
      await database.stop();
      say('cluster stopped');
    },
  };
}
