import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

/*
 * A private test network of "hosts" on this machine (needs root): a bridge in the root network
 * namespace holding 10.250.0.1/24, and per host a network namespace plugged into the bridge by a
 * veth pair, with its own address 10.250.0.x, lo up and a default route via the bridge. Taking the
 * root end of a host's veth down cuts that host off from everyone; bringing it up restores it.
 *
 * Every name carries `pq<pid>` of the process that made it, so leftovers of a run that died
 * without cleaning up are recognised (and removed) by the next run.
 */

const runFile = promisify(execFile);

export const TEST_SUBNET = '10.250.0.0/24';
/** The root namespace's address on the bridge (PostgreSQL listens there). */
export const BRIDGE_ADDRESS = '10.250.0.1';
const PREFIX_LENGTH = 24;
/** Hosts get .2, .3, ... */
const FIRST_HOST_OCTET = 2;
const MAX_HOSTS = 50;

export type TestNetworkErrorCode = 'IP_COMMAND_FAILED' | 'TOO_MANY_HOSTS' | 'INVALID_HOST_NAME' | 'UNKNOWN_HOST' | 'SUBNET_IN_USE' | 'UNREACHABLE';

export class TestNetworkError extends Error {
  constructor(
    readonly code: TestNetworkErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TestNetworkError';
  }
}

export interface NetworkHost {
  name: string;
  namespace: string;
  address: string;
  /** Root-namespace end of the host's veth pair, a port of the bridge: down = the host is cut off. */
  link: string;
  /** Prefix that runs a command inside the host's namespace. */
  commandPrefix: readonly string[];
}

/** `pq<pid>`: the bridge's name and the prefix of everything else this process creates. */
function ownerTag(pid = process.pid): string {
  return `pq${pid}`;
}

/** Names made by ownerTag: the bridge pq<pid>, veths pq<pid>v<n> and probes pq<pid>p<n>. */
const OWNED_LINK = /^pq(\d+)(?:[vp]\d+)?$/;
/** Namespaces pq<pid>-<host>. */
const OWNED_NAMESPACE = /^pq(\d+)-[A-Za-z0-9_-]+$/;

/**
 * Why the multi-host tests cannot run here, or undefined when they can. Tries what they need
 * (a namespace, a veth pair) and frees the test subnet of leftovers from runs that died.
 * Synchronous, so a test file can choose `describe` or `describe.skip` while it loads.
 */
export function testNetworkUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  const uid = process.getuid?.();
  if (uid !== 0) return `making network namespaces needs root (running as uid ${String(uid)})`;
  if (spawnSync('ip', ['-V']).error) return 'iproute2 is not installed (no `ip` command; on Debian: apt-get install -y iproute2)';

  removeLeftoversOfDeadRuns();
  const holder = subnetHolder();
  if (holder !== undefined) return `the test subnet ${TEST_SUBNET} is already in use on ${holder} (another run of this test?)`;

  const tag = ownerTag();
  const namespace = ipSync(['netns', 'add', `${tag}-probe`]);
  if (!namespace.ok) return `\`ip netns add\` was refused: ${namespace.stderr.trim()}`;
  ipSync(['netns', 'del', `${tag}-probe`]);
  const veth = ipSync(['link', 'add', `${tag}p0`, 'type', 'veth', 'peer', 'name', `${tag}p1`]);
  if (!veth.ok) return `\`ip link add type veth\` was refused: ${veth.stderr.trim()}`;
  ipSync(['link', 'del', `${tag}p0`]);
  return undefined;
}

/**
 * The hosts named, each in its own namespace at 10.250.0.2, .3, ... in the order given, on a
 * fresh bridge. On any failure whatever was made is deleted again.
 */
export async function createTestNetwork(hostNames: readonly string[]): Promise<TestNetwork> {
  if (hostNames.length > MAX_HOSTS) throw new TestNetworkError('TOO_MANY_HOSTS', `at most ${MAX_HOSTS} hosts, not ${hostNames.length}`);
  const badName = hostNames.find((name) => !/^[A-Za-z0-9_-]+$/.test(name));
  if (badName !== undefined) throw new TestNetworkError('INVALID_HOST_NAME', `host names are [A-Za-z0-9_-]+, not "${badName}"`);
  // Two bridges on one subnet would route to whichever came first: never share it.
  const holder = subnetHolder();
  if (holder !== undefined) throw new TestNetworkError('SUBNET_IN_USE', `the test subnet ${TEST_SUBNET} is already in use on ${holder}`);
  const tag = ownerTag();
  const hosts = hostNames.map((name, i): NetworkHost => {
    const namespace = `${tag}-${name}`;
    return {
      name,
      namespace,
      address: `10.250.0.${FIRST_HOST_OCTET + i}`,
      link: `${tag}v${i}`,
      commandPrefix: ['ip', 'netns', 'exec', namespace],
    };
  });
  const network = new TestNetwork(tag, hosts);
  try {
    await ip(['link', 'add', tag, 'type', 'bridge']);
    await ip(['addr', 'add', `${BRIDGE_ADDRESS}/${PREFIX_LENGTH}`, 'dev', tag]);
    await ip(['link', 'set', tag, 'up']);
    for (const host of hosts) {
      await ip(['netns', 'add', host.namespace]);
      await ip(['link', 'add', host.link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.namespace]);
      await ip(['link', 'set', host.link, 'master', tag, 'up']);
      await ip(['-n', host.namespace, 'addr', 'add', `${host.address}/${PREFIX_LENGTH}`, 'dev', 'eth0']);
      await ip(['-n', host.namespace, 'link', 'set', 'eth0', 'up']);
      await ip(['-n', host.namespace, 'link', 'set', 'lo', 'up']);
      await ip(['-n', host.namespace, 'route', 'add', 'default', 'via', BRIDGE_ADDRESS]);
    }
  } catch (error) {
    network.destroy();
    throw error;
  }
  return network;
}

export class TestNetwork {
  private destroyed = false;

  constructor(
    /** Name of the bridge. */
    readonly bridge: string,
    readonly hosts: readonly NetworkHost[],
  ) {}

  host(name: string): NetworkHost {
    const found = this.hosts.find((h) => h.name === name);
    if (!found) throw new TestNetworkError('UNKNOWN_HOST', `no host ${name} in this network`);
    return found;
  }

  /** Cuts the host off: its link to the bridge goes down (packets are dropped, nothing is refused). */
  async cut(host: NetworkHost): Promise<void> {
    await ip(['link', 'set', host.link, 'down']);
  }

  async restore(host: NetworkHost): Promise<void> {
    await ip(['link', 'set', host.link, 'up']);
  }

  /**
   * Checks the network carries traffic before anything relies on it: a server in `server`'s
   * namespace must answer a client in the root namespace and one in `client`'s namespace.
   */
  async assertReachable(server: NetworkHost, client: NetworkHost): Promise<void> {
    const port = 8000;
    const script = `require('node:http').createServer((q, s) => s.end('pong')).listen(${port}, '${server.address}', () => console.log('listening'))`;
    const child = spawn(server.commandPrefix[0]!, [...server.commandPrefix.slice(1), process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => resolve());
        child.on('exit', (code) => reject(new TestNetworkError('UNREACHABLE', `probe server in ${server.namespace} exited (${String(code)})`)));
      });
      const url = `http://${server.address}:${port}/`;
      const fromRoot = await fetch(url, { signal: AbortSignal.timeout(3000) }).then((r) => r.text()).catch((e: unknown) => String(e));
      if (fromRoot !== 'pong') throw new TestNetworkError('UNREACHABLE', `root namespace -> ${server.name} (${url}): ${fromRoot}`);
      const fetchScript = `fetch('${url}', { signal: AbortSignal.timeout(3000) }).then((r) => r.text()).then((t) => process.exit(t === 'pong' ? 0 : 1), () => process.exit(2))`;
      const fromHost = await runFile(client.commandPrefix[0]!, [...client.commandPrefix.slice(1), process.execPath, '-e', fetchScript]).then(
        () => 'pong',
        (e: unknown) => String(e),
      );
      if (fromHost !== 'pong') throw new TestNetworkError('UNREACHABLE', `${client.name} -> ${server.name} (${url}): ${fromHost}`);
    } finally {
      child.kill('SIGKILL');
    }
  }

  /** Deletes the veth pairs, namespaces and bridge. Stop the processes running in the namespaces first. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const host of this.hosts) {
      ipSync(['link', 'del', host.link]); // deletes both ends
      ipSync(['netns', 'del', host.namespace]);
    }
    ipSync(['link', 'del', this.bridge]);
  }
}

async function ip(args: string[]): Promise<void> {
  try {
    await runFile('ip', args);
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new TestNetworkError('IP_COMMAND_FAILED', `ip ${args.join(' ')}: ${stderr || String(error)}`);
  }
}

function ipSync(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: result.status === 0, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
}

/** The device holding an address of the test subnet, if any. */
function subnetHolder(): string | undefined {
  const taken = ipSync(['-o', '-4', 'addr', 'show', 'to', TEST_SUBNET]).stdout.trim();
  return taken === '' ? undefined : (taken.split(/\s+/)[1] ?? '?');
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Links and namespaces named by a test process that is gone (SIGKILLed before its afterAll; jest's
 * sandbox runs no exit hooks), and the roles it left running in those namespaces.
 */
function removeLeftoversOfDeadRuns(): void {
  const deadOwner = (name: string, pattern: RegExp): boolean => {
    const pid = pattern.exec(name)?.[1];
    return pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid));
  };
  const namespaces = parseJsonList(ipSync(['-j', 'netns', 'list']).stdout).map((n) => n.name);
  for (const name of namespaces) {
    if (!name || !deadOwner(name, OWNED_NAMESPACE)) continue;
    for (const pid of ipSync(['netns', 'pids', name]).stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    ipSync(['netns', 'del', name]);
  }
  const links = parseJsonList(ipSync(['-j', 'link', 'show']).stdout).map((l) => l.ifname);
  // Veths before bridges: deleting a veth end takes its peer along.
  for (const name of links.sort().reverse()) if (name && deadOwner(name, OWNED_LINK)) ipSync(['link', 'del', name]);
}

function parseJsonList(text: string): { name?: string; ifname?: string }[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as { name?: string; ifname?: string }[]) : [];
  } catch {
    return []; // `ip netns list` prints nothing at all before the first namespace exists
  }
}
