import { flagValue } from './nats-server-process.js';

/** nats-server's file store syncs on a timer of this length unless told otherwise. */
const NATS_DEFAULT_SYNC = '2 min';

/** `jetstream.config` of the server's monitoring /varz (sync_interval in nanoseconds; both omitted when unset). */
export interface NatsVarzJetStreamConfig {
  sync_interval?: number;
  sync_always?: boolean;
}

/** When nats-server fsyncs what it acknowledged, and how that was found out. */
export interface NatsFsync {
  policy: string;
  source: 'monitoring /varz' | 'server version' | 'command line' | 'unknown';
}

export interface NatsFsyncEvidence {
  /** The server's version from its INFO, e.g. "2.9.10". */
  version: string | undefined;
  /** From /varz, when a monitoring port answered. */
  varz?: NatsVarzJetStreamConfig;
  /** The server's command line, when the process is visible on this machine. */
  argv?: readonly string[];
}

function formatNanoseconds(ns: number): string {
  const seconds = ns / 1e9;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return seconds >= 1 ? `${seconds} s` : `${ns / 1e6} ms`;
}

/** Whether `version` is older than major.minor; unparsable versions count as not older. */
function olderThan(version: string | undefined, major: number, minor: number): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const [vMajor, vMinor] = [Number(match[1]), Number(match[2])];
  return vMajor < major || (vMajor === major && vMinor < minor);
}

/**
 * What an acknowledged NATS JetStream publish means for the disk, so the reference is compared
 * honestly with partq's acks=broker (fsync before the acknowledgement): the server's own /varz
 * when it answers; else servers before 2.10, which have no `sync_interval` setting and always
 * sync every 2 min; else a server started without a config file, which has the default; else unknown.
 */
export function natsFsyncPolicy(evidence: NatsFsyncEvidence): NatsFsync {
  const notPerMessage = 'not per message';
  if (evidence.varz) {
    if (evidence.varz.sync_always) return { policy: 'every write (sync_interval: always)', source: 'monitoring /varz' };
    const interval = evidence.varz.sync_interval ? formatNanoseconds(evidence.varz.sync_interval) : `${NATS_DEFAULT_SYNC}, the default`;
    return { policy: `per sync_interval (${interval}), ${notPerMessage}`, source: 'monitoring /varz' };
  }
  if (olderThan(evidence.version, 2, 10)) {
    return { policy: `per ${NATS_DEFAULT_SYNC} (fixed before nats-server 2.10), ${notPerMessage}`, source: 'server version' };
  }
  if (evidence.argv && flagValue(evidence.argv, '-c', '--config') === undefined) {
    return { policy: `per sync_interval (NATS default ${NATS_DEFAULT_SYNC}, no config file), ${notPerMessage}`, source: 'command line' };
  }
  return { policy: `unknown (no monitoring port to ask; NATS default: per ${NATS_DEFAULT_SYNC}, ${notPerMessage})`, source: 'unknown' };
}

/**
 * The JetStream settings from the server's monitoring port (`-m` / `--http_port` on its command
 * line), or undefined when it has none or it does not answer within a second.
 */
export async function readNatsVarz(host: string, argv: readonly string[] | undefined): Promise<NatsVarzJetStreamConfig | undefined> {
  const port = argv ? flagValue(argv, '-m', '--http_port') : undefined;
  if (port === undefined) return undefined;
  try {
    const response = await fetch(`http://${host}:${port}/varz`, { signal: AbortSignal.timeout(1000) });
    if (!response.ok) return undefined;
    const varz = (await response.json()) as { jetstream?: { config?: NatsVarzJetStreamConfig } };
    return varz.jetstream?.config ?? {};
  } catch {
    return undefined;
  }
}
