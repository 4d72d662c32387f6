import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sizeLabel, withCpu, type BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import { CpuMeter, type ClusterProcess } from '../cpu-meter.js';
import { ackFields } from '../e2e-latency.js';
import { LatencyRecorder } from '../latency-recorder.js';
import { buildMeasurement, type MeasuredResult } from '../measurement.js';
import { FLOOR_ENV, type FloorCommand, type FloorMessage, type FloorPorts, type FloorRole } from './floor-role.js';
import { decodeAck, encodeFrames, FrameReader } from './frames.js';
import { dial } from './loopback.js';

export const HOP_FLOOR_PREFIX = 'reference.hop-floor';
/** How long after the last send everything may still take to come back. */
const DRAIN_MS = 10_000;
const START_TIMEOUT_MS = 10_000;
/** The sender looks at the clock this often and sends what is due, as the e2e run's producer does. */
const TICK_MS = 1;

export function hopFloorName(size: number, rate: number): string {
  return `${HOP_FLOOR_PREFIX}.e2e-latency.fixed-rate-${rate}-per-s.${sizeLabel(size)}`;
}

interface FloorProcess {
  role: FloorRole;
  child: ChildProcess;
  ports: Partial<FloorPorts>;
}

/**
 * The floor under the end-to-end run: the same hops with nothing but the hops. A gateway, a broker
 * and a replica process that forward length-prefixed frames over plain TCP (no HTTP, no RPC
 * framework, no protobuf, no metrics); the broker writes each group and fdatasyncs it before it
 * acknowledges and pushes it on, the replica commits a position in the cluster's PostgreSQL before it
 * delivers. The producing and consuming client is this process, at the e2e run's rate and size. What
 * partq spends above these figures is what its framework costs per hop on this machine.
 */
export async function measureHopFloor(context: BenchContext): Promise<MeasuredResult> {
  const { options, target } = context;
  const { e2eRate: rate, e2eSize: size } = options;
  const name = hopFloorName(size, rate);
  const identity = { name, kind: 'reference', via: 'hop-floor', mode: 'fixed-rate', msgBytes: size, acks: 'broker' } as const;
  if (!target.databaseUrl) {
    return buildMeasurement({ ...identity, msgs: 0, seconds: 0, cpuVisible: false, extra: { skipped: 'needs a PostgreSQL: run without --url, or give --database-url' } });
  }
  const total = Math.max(1, Math.round((rate * options.e2eDurationMs) / 1000));
  const table = `bench_hop_floor_${process.pid}`;
  const db = new pg.Client({ connectionString: target.databaseUrl });
  const walDir = mkdtempSync(join(tmpdir(), 'partq-hop-floor-'));
  const processes: FloorProcess[] = [];
  const sockets: Socket[] = [];
  await db.connect();
  try {
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, position bigint NOT NULL)`);
    await db.query(`INSERT INTO ${table} VALUES (1, 0)`);
    const env = { ...process.env, [FLOOR_ENV.walFile]: join(walDir, 'wal'), [FLOOR_ENV.databaseUrl]: target.databaseUrl, [FLOOR_ENV.table]: table };
    for (const role of ['gateway', 'broker', 'replica'] as const) processes.push(await startRole(role, env));
    const ports = Object.assign({}, ...processes.map((p) => p.ports)) as FloorPorts;
    await Promise.all(processes.map((p) => command(p, { connect: ports })));

    const cpu = new CpuMeter(
      () => processes.flatMap((p): ClusterProcess[] => (p.child.pid === undefined ? [] : [{ role: p.role, name: p.role, pid: p.child.pid }])),
      target.postgresAncestor,
    );
    const consumer = await dial(ports.consume);
    const producer = await dial(ports.produce);
    sockets.push(consumer, producer);
    const latency = new LatencyRecorder();
    const acked = new LatencyRecorder();
    const sentAt = new Float64Array(total);
    const floorContext: BenchContext = { ...context, cpu, cpuVisible: cpu.available };
    const { result, cpu: used } = await withCpu(floorContext, () => exchange({ producer, consumer, total, size, rate, sentAt, latency, acked }));
    const [position] = (await db.query<{ position: string }>(`SELECT position FROM ${table} WHERE id = 1`)).rows;
    const errors = result.received < total || result.socketError ? 1 : 0;
    return buildMeasurement({
      ...identity,
      msgs: result.received,
      seconds: result.seconds,
      latency,
      cpu: used,
      cpuVisible: cpu.available,
      errors,
      firstError: result.socketError
        ? `hop floor connection failed: ${result.socketError.message}`
        : errors
          ? `received ${result.received} of ${total} messages within ${DRAIN_MS} ms of the last send`
          : undefined,
      extra: {
        target_rate: rate,
        committed_position: Number(position?.position ?? 0),
        ...ackFields(acked),
      },
    });
  } finally {
    for (const socket of sockets) socket.destroy();
    for (const p of processes) p.child.kill('SIGKILL');
    await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await db.end().catch(() => undefined);
    rmSync(walDir, { recursive: true, force: true });
  }
}

function startRole(role: FloorRole, env: NodeJS.ProcessEnv): Promise<FloorProcess> {
  const child = fork(join(__dirname, 'floor-role.js'), [role], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const floorProcess: FloorProcess = { role, child, ports: {} };
  return awaitMessage(floorProcess, 'listening').then((message) => {
    floorProcess.ports = message.listening;
    return floorProcess;
  });
}

function command(p: FloorProcess, message: FloorCommand): Promise<unknown> {
  p.child.send(message);
  return awaitMessage(p, 'ready');
}

function awaitMessage<K extends 'listening' | 'ready'>(p: FloorProcess, key: K): Promise<Extract<FloorMessage, Record<K, unknown>>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new BenchError('SETUP_FAILED', `hop floor ${p.role}: no '${key}' within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const onMessage = (message: FloorMessage): void => {
      if ('failed' in message) done(new BenchError('SETUP_FAILED', `hop floor ${p.role}: ${message.failed}`));
      else if (key in message) done(undefined, message as Extract<FloorMessage, Record<K, unknown>>);
    };
    const onExit = (code: number | null): void => done(new BenchError('SETUP_FAILED', `hop floor ${p.role} exited (${String(code)})`));
    function done(error: Error | undefined, message?: Extract<FloorMessage, Record<K, unknown>>): void {
      clearTimeout(timer);
      p.child.off('message', onMessage);
      p.child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message!);
    }
    p.child.on('message', onMessage);
    p.child.on('exit', onExit);
  });
}

interface Exchange {
  producer: Socket;
  consumer: Socket;
  total: number;
  size: number;
  rate: number;
  sentAt: Float64Array;
  latency: LatencyRecorder;
  acked: LatencyRecorder;
}

/** Sends `total` messages at `rate` (each tick's due messages in one write) and waits until all come back. */
async function exchange(x: Exchange): Promise<{ received: number; seconds: number; socketError?: Error }> {
  const started = performance.now();
  let received = 0;
  let socketError: Error | undefined;
  // A floor process that dies resets its connection: the run ends short, with the reason, not with the bench.
  const failed = (error: Error): void => {
    socketError ??= error;
  };
  x.producer.on('error', failed);
  x.consumer.on('error', failed);
  let ackedCount = 0;
  const acks = new FrameReader();
  x.producer.on('data', (chunk: Buffer) => {
    const now = performance.now();
    for (const frame of acks.push(chunk)) {
      // Acknowledgements come in send order: each covers the oldest messages not yet acknowledged.
      for (const end = ackedCount + decodeAck(frame); ackedCount < end; ackedCount++) x.acked.record(now - x.sentAt[ackedCount]!);
    }
  });
  // The drain timer starts at the last send (below), so a run longer than DRAIN_MS is not cut short.
  let drain: NodeJS.Timeout | undefined;
  let finish: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => {
    finish = resolve;
    const deliveries = new FrameReader();
    x.consumer.on('data', (chunk: Buffer) => {
      const now = performance.now();
      for (const frame of deliveries.push(chunk)) {
        const index = frame.readUInt32BE(0);
        if (index < x.total) x.latency.record(now - x.sentAt[index]!);
        received++;
      }
      if (received >= x.total) {
        clearTimeout(drain);
        resolve();
      }
    });
    x.consumer.once('close', () => {
      clearTimeout(drain);
      resolve();
    });
  });
  let sent = 0;
  while (sent < x.total) {
    const due = Math.min(x.total, Math.floor(((performance.now() - started) / 1000) * x.rate) + 1);
    const batch: Buffer[] = [];
    for (; sent < due; sent++) {
      const payload = Buffer.alloc(x.size, 'x');
      payload.writeUInt32BE(sent, 0);
      x.sentAt[sent] = performance.now();
      batch.push(payload);
    }
    if (batch.length > 0 && !socketError) x.producer.write(encodeFrames(batch));
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  if (received < x.total) drain = setTimeout(finish, DRAIN_MS);
  await arrived;
  return { received, seconds: (performance.now() - started) / 1000, socketError };
}
