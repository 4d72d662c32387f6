import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@partq/schema';
import { freePort, RoleProcess, type Role } from '../../src/cluster/index.js';
import { BRIDGE_ADDRESS, createTestNetwork, isAlive, type NetworkHost, type TestNetwork } from './network-namespaces.js';

/** Each role listens on a fixed port of its own host's address: every host has a whole port space. */
const PORTS: Record<Role, number> = { manager: 7000, broker: 7100, replica: 7200, gateway: 8080 };
/** How long a role may take to stop gracefully before it is killed. */
const STOP_GRACE_MS = 3000;
/** Data directories are named after the test process, so a later run can clean up after a killed one. */
const DATA_DIR_PREFIX = 'partq-mh-';

export interface HostedRole {
  process: RoleProcess;
  host: NetworkHost;
  /** The address it listens on and advertises: http://<its host's address>:<port>. */
  url: string;
}

export interface MultiHostClusterOptions {
  brokers: number;
  /** Extra environment per role (shorter timeouts in tests). */
  env?: Partial<Record<Role | 'all', Record<string, string>>>;
}

export type MultiHostClusterErrorCode = 'DISPOSED' | 'NOT_STARTED';

export class MultiHostClusterError extends Error {
  constructor(
    readonly code: MultiHostClusterErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MultiHostClusterError';
  }
}

function entryPoint(role: Role): string {
  return join(dirname(require.resolve(`@partq/${role}/package.json`)), 'dist', 'main.js');
}

/**
 * A partq cluster spread over "hosts": a private test network (network-namespaces.ts) with the
 * manager, each broker, the replica and the gateway in a network namespace of its own, each bound
 * to and advertising its own address, and an embedded PostgreSQL on the bridge address in the root
 * namespace (a PostgreSQL on 127.0.0.1 cannot be reached from the namespaces). Needs root.
 *
 * Made first and started after, so that dispose() (afterAll) cleans up even a start that failed
 * or is still running when the hook times out.
 */
export class MultiHostCluster {
  readonly adminToken = randomBytes(16).toString('hex');
  private readonly roles: HostedRole[] = [];
  private dataDir: string | undefined;
  private networkOrUndefined: TestNetwork | undefined;
  private postgres: EmbeddedPostgres | undefined;
  private disposing: Promise<void> | undefined;

  constructor(private readonly options: MultiHostClusterOptions) {}

  get network(): TestNetwork {
    if (!this.networkOrUndefined) throw new MultiHostClusterError('NOT_STARTED', 'the cluster has not been started');
    return this.networkOrUndefined;
  }

  get manager(): HostedRole {
    return this.hosted('manager')[0]!;
  }

  get brokers(): HostedRole[] {
    return this.hosted('broker');
  }

  get replica(): HostedRole {
    return this.hosted('replica')[0]!;
  }

  get gateway(): HostedRole {
    return this.hosted('gateway')[0]!;
  }

  get gatewayUrl(): string {
    return this.gateway.url;
  }

  async start(): Promise<void> {
    try {
      await this.startAll();
    } catch (error) {
      await this.dispose();
      throw error;
    }
  }

  /** Kills the roles, stops PostgreSQL, deletes the network and the data (PARTQ_KEEP_TEST_DATA keeps the data). */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      const network = this.networkOrUndefined;
      // A cut host answers nothing, so a graceful stop would wait out its grace period: link everything back first.
      if (network) for (const host of network.hosts) await network.restore(host).catch(() => undefined);
      const order: Role[] = ['gateway', 'replica', 'broker', 'manager'];
      for (const role of order) await Promise.all(this.hosted(role).map((r) => stopAndReport(r)));
      await this.postgres?.stop();
      network?.destroy();
      if (this.dataDir && !process.env.PARTQ_KEEP_TEST_DATA) rmSync(this.dataDir, { recursive: true, force: true });
      else if (this.dataDir) process.stdout.write(`multi-host cluster data and logs kept in ${this.dataDir}\n`);
    })();
    return this.disposing;
  }

  private hosted(role: Role): HostedRole[] {
    return this.roles.filter((r) => r.process.spec.role === role);
  }

  /** Between steps: a dispose() that came during start() stops it. */
  private checkNotDisposed(): void {
    if (this.disposing) throw new MultiHostClusterError('DISPOSED', 'the cluster was disposed while starting');
  }

  private async startAll(): Promise<void> {
    const options = this.options;
    removeDataOfDeadRuns();
    const dataDir = mkdtempSync(join(tmpdir(), `${DATA_DIR_PREFIX}${process.pid}-`));
    this.dataDir = dataDir;
    // PostgreSQL runs as the `postgres` OS user (we are root), who must be able to enter its directory.
    chmodSync(dataDir, 0o755);
    const brokerNames = Array.from({ length: options.brokers }, (_, i) => `broker-${i + 1}`);

    const network = await createTestNetwork(['manager', ...brokerNames, 'replica', 'gateway']);
    this.networkOrUndefined = network;
    this.checkNotDisposed();
    await network.assertReachable(network.host('manager'), network.host('gateway'));

    const postgres = await startEmbeddedPostgres({
      dataDir: join(dataDir, 'postgres'),
      port: await freePort(),
      host: BRIDGE_ADDRESS,
      durable: false,
      ref: false,
    });
    this.postgres = postgres;
    if (this.disposing) await postgres.stop(); // dispose() came while it started and could not see it
    this.checkNotDisposed();

    const launch = async (role: Role, id: number, host: NetworkHost, env: Record<string, string>): Promise<void> => {
      this.checkNotDisposed();
      const url = `http://${host.address}:${PORTS[role]}`;
      const child = new RoleProcess({
        role,
        id,
        script: entryPoint(role),
        url,
        env: { ...env, ...options.env?.all, ...options.env?.[role] },
        logDir: join(dataDir, 'logs'),
        commandPrefix: host.commandPrefix,
      });
      this.roles.push({ process: child, host, url });
      await child.start();
    };

    const managerHost = network.host('manager');
    const managerUrl = `http://${managerHost.address}:${PORTS.manager}`;
    await launch('manager', 1, managerHost, {
      PARTQ_MANAGER_HOST: managerHost.address,
      PARTQ_MANAGER_PORT: String(PORTS.manager),
      PARTQ_MANAGER_ADVERTISED_URL: managerUrl,
      PARTQ_MANAGER_DATA_DIR: join(dataDir, 'manager'),
      DATABASE_URL: postgres.url,
    });
    for (const [i, name] of brokerNames.entries()) {
      const host = network.host(name);
      await launch('broker', i + 1, host, {
        PARTQ_BROKER_HOST: host.address,
        PARTQ_BROKER_PORT: String(PORTS.broker),
        PARTQ_BROKER_ADVERTISED_URL: `http://${host.address}:${PORTS.broker}`,
        PARTQ_BROKER_DATA_DIR: join(dataDir, name),
        PARTQ_MANAGER_URL: managerUrl,
      });
    }
    const replicaHost = network.host('replica');
    await launch('replica', 1, replicaHost, {
      PARTQ_REPLICA_HOST: replicaHost.address,
      PARTQ_REPLICA_PORT: String(PORTS.replica),
      PARTQ_REPLICA_ADVERTISED_URL: `http://${replicaHost.address}:${PORTS.replica}`,
      PARTQ_MANAGER_URL: managerUrl,
      DATABASE_URL: postgres.url,
    });
    const gatewayHost = network.host('gateway');
    await launch('gateway', 1, gatewayHost, {
      PARTQ_GATEWAY_HOST: gatewayHost.address,
      PARTQ_GATEWAY_PORT: String(PORTS.gateway),
      PARTQ_MANAGER_URL: managerUrl,
      PARTQ_ADMIN_TOKEN: this.adminToken,
    });
  }
}

/** Stops a role; one that ignores SIGTERM for the grace period is killed, and said so (a shutdown bug). */
async function stopAndReport(role: HostedRole): Promise<void> {
  let signal: NodeJS.Signals | null = null;
  role.process.onExit((_code, exitSignal) => {
    signal = exitSignal;
  });
  const started = Date.now();
  await role.process.stop(STOP_GRACE_MS);
  if (signal === 'SIGKILL') process.stdout.write(`${role.process.name} did not stop within ${Date.now() - started} ms of SIGTERM and was killed\n`);
}

/**
 * A run that was killed before its afterAll left its PostgreSQL running (jest's sandbox runs no exit
 * hooks, so nothing else would stop it): stop it, and delete that run's data unless data is kept.
 */
function removeDataOfDeadRuns(): void {
  for (const name of readdirSync(tmpdir())) {
    const owner = new RegExp(`^${DATA_DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (owner === undefined || Number(owner) === process.pid || isAlive(Number(owner))) continue;
    const dir = join(tmpdir(), name);
    if (stopLeftoverPostgres(join(dir, 'postgres')) && !process.env.PARTQ_KEEP_TEST_DATA) rmSync(dir, { recursive: true, force: true });
  }
}

/** True if a PostgreSQL was running on dataDir and was asked to stop. */
function stopLeftoverPostgres(dataDir: string): boolean {
  try {
    // postmaster.pid: the server's pid, then its data directory.
    const [pid, dir] = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const comm = readFileSync(`/proc/${Number(pid)}/comm`, 'utf8').trim();
    if (comm !== 'postgres' || dir !== dataDir) return false;
    process.kill(Number(pid), 'SIGINT'); // fast shutdown
    return true;
  } catch {
    return false; // no server left, or not one of ours
  }
}
