import { jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { errorText, payloadOf, sizeLabel, withCpu, type BenchContext } from './bench-context.js';
import { CpuMeter } from './cpu-meter.js';
import { LatencyRecorder } from './latency-recorder.js';
import { buildMeasurement, type MeasuredResult } from './measurement.js';
import { natsFsyncPolicy, readNatsVarz, type NatsFsync } from './nats-fsync.js';
import { findNatsServer, type NatsServerProcess } from './nats-server-process.js';
import { produceFor, type ProduceMode, type SendTally } from './produce-loop.js';

export const NATS_REFERENCE_PREFIX = 'reference.nats-jetstream';
/** Publishes in flight in the pipelined run, as in the reference figure. */
export const NATS_PIPELINE_WINDOW = 256;
/** A NATS that does not answer within this is taken as absent. */
const CONNECT_TIMEOUT_MS = 2000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export interface NatsReferenceCase {
  size: number;
  mode: ProduceMode;
}

export function natsReferenceName(c: NatsReferenceCase): string {
  return `${NATS_REFERENCE_PREFIX}.${c.mode}.${sizeLabel(c.size)}`;
}

/** Every reference measurement for these sizes, in the order they run. */
export function natsReferenceCases(sizes: readonly number[]): NatsReferenceCase[] {
  return sizes.flatMap((size) => (['pipelined', 'one-at-a-time'] as const).map((mode) => ({ size, mode })));
}

/** A NATS server with JetStream, ready for one bench run. */
interface NatsSession {
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
  version: string | undefined;
  server: NatsServerProcess | undefined;
  fsync: NatsFsync;
}

/** Connects to NATS with JetStream; a reason to skip instead when it is not there. */
async function openSession(url: string): Promise<NatsSession | { skipped: string }> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: 'partq-bench', timeout: CONNECT_TIMEOUT_MS, reconnect: false });
  } catch (error) {
    return { skipped: `NATS not reachable at ${url} (${errorText(error)})` };
  }
  let jsm: JetStreamManager;
  try {
    if (nc.info?.jetstream === false) throw new Error('the server says so in its INFO');
    jsm = await jetstreamManager(nc);
  } catch (error) {
    await nc.close();
    return { skipped: `JetStream is not enabled on the NATS server at ${url} (${errorText(error)})` };
  }
  const { hostname, port } = new URL(url);
  // Its process (for CPU and settings) can only be ours to see when it runs on this machine.
  const server = LOOPBACK.has(hostname) ? findNatsServer(Number(port || 4222)) : undefined;
  const version = nc.info?.version;
  const varz = await readNatsVarz(hostname, server?.argv);
  return { nc, jsm, js: jetstream(nc), version, server, fsync: natsFsyncPolicy({ version, varz, argv: server?.argv }) };
}

/** What every reference line says about itself. */
function identity(c: NatsReferenceCase) {
  return { name: natsReferenceName(c), kind: 'reference', via: 'nats-jetstream', mode: c.mode, msgBytes: c.size } as const;
}

/** The fields of a line that measured nothing (skipped, or failed before a number). */
const NOTHING_MEASURED = { msgs: 0, seconds: 0, cpuVisible: false } as const;

function skippedMeasurement(c: NatsReferenceCase, reason: string): MeasuredResult {
  return buildMeasurement({ ...identity(c), ...NOTHING_MEASURED, extra: { skipped: reason } });
}

/**
 * The yardstick on the same machine and in the same run: NATS JetStream publishes from one
 * Node client (@nats-io/jetstream) to a file-storage stream of one replica, awaiting each PubAck,
 * one at a time or up to 256 in flight, timed like the partq client produce runs. By default
 * JetStream acknowledges before its file store is fsynced, partq's acks=broker after: the `fsync`
 * field of every line says which applies. CPU is the nats-server process's, when it is on
 * this machine. A NATS that is absent or has no JetStream gives `skipped` lines, not errors.
 */
export async function measureNatsReference(context: BenchContext, cases: readonly NatsReferenceCase[]): Promise<MeasuredResult[]> {
  const url = context.options.natsUrl;
  const session = await openSession(url);
  if ('skipped' in session) {
    context.say(`  skipped: ${session.skipped}`);
    return cases.map((c) => skippedMeasurement(c, session.skipped));
  }
  const stream = context.topic('nats-jetstream');
  const server = session.server;
  const cpu = new CpuMeter(() => (server ? [{ role: 'nats-server', name: 'nats-server', pid: server.pid }] : []), undefined);
  const natsContext: BenchContext = { ...context, cpu, cpuVisible: cpu.available && server !== undefined };
  try {
    await session.jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.File, num_replicas: 1 });
    const results: MeasuredResult[] = [];
    for (const c of cases) {
      try {
        results.push(await measurePublish(natsContext, session, `${stream}.${c.mode}.${sizeLabel(c.size)}`, c));
      } catch (error) {
        results.push(buildMeasurement({ ...identity(c), ...NOTHING_MEASURED, errors: 1, firstError: errorText(error) }));
      }
    }
    return results;
  } finally {
    await session.jsm.streams.delete(stream).catch((error: unknown) => context.say(`  could not delete NATS stream ${stream}: ${errorText(error)}`));
    await session.nc.close();
  }
}

async function measurePublish(context: BenchContext, session: NatsSession, subject: string, c: NatsReferenceCase): Promise<MeasuredResult> {
  const { options } = context;
  const payload = payloadOf(c.size);
  const send = (): Promise<unknown> => session.js.publish(subject, payload);
  const window = NATS_PIPELINE_WINDOW;
  // Warm-up as in the partq runs: connection buffers, JIT, the stream's first block.
  await produceFor(send, c.mode, Math.min(500, options.durationMs / 4), window, new LatencyRecorder());

  const tally: SendTally = { acked: 0, errors: 0, latency: new LatencyRecorder() };
  const { result: seconds, cpu } = await withCpu(context, async () => {
    const started = performance.now();
    const last = await produceFor(send, c.mode, options.durationMs, window, tally.latency, tally);
    return (last - started) / 1000;
  });
  return buildMeasurement({
    ...identity(c),
    msgs: tally.acked,
    seconds,
    latency: tally.latency,
    cpu,
    cpuVisible: context.cpuVisible,
    errors: tally.errors,
    ...(tally.firstError === undefined ? {} : { firstError: tally.firstError }),
    extra: {
      in_flight: c.mode === 'pipelined' ? window : 1,
      storage: 'file',
      stream_replicas: 1,
      fsync: session.fsync.policy,
      fsync_source: session.fsync.source,
      nats_server_version: session.version ?? null,
    },
  });
}
