/**
 * One process of the hop floor (see hop-floor.ts), started by the benchmark with an IPC channel:
 * `node floor-role.js gateway|broker|replica`. It listens, says { listening: ports }, is told
 * { connect: ports } of its peers, connects, says { ready: true }, and forwards frames until killed.
 * Nothing here is partq's code: it is the least a process can do for its hop.
 */
import { openSync, writeSync, fdatasync } from 'node:fs';
import type { Socket } from 'node:net';
import pg from 'pg';
import { encodeAck, encodeFrames, FrameReader } from './frames.js';
import { dial, listen } from './loopback.js';

export type FloorRole = 'gateway' | 'broker' | 'replica';

/** Ports each role listens on. */
export interface FloorPorts {
  /** Gateway: the producing client sends here and gets acknowledgements back. */
  produce: number;
  /** Gateway: the consuming client connects here and receives deliveries. */
  consume: number;
  /** Gateway: the replica delivers here. */
  deliver: number;
  /** Broker: the gateway appends here. */
  append: number;
  /** Replica: the broker pushes durable records here. */
  push: number;
}

export type FloorMessage = { listening: Partial<FloorPorts> } | { ready: true } | { failed: string };
export type FloorCommand = { connect: FloorPorts };

/** What the parent gives a role in its environment. */
export const FLOOR_ENV = { walFile: 'PARTQ_FLOOR_WAL_FILE', databaseUrl: 'PARTQ_FLOOR_DATABASE_URL', table: 'PARTQ_FLOOR_TABLE' } as const;

/** Calls `commit` for everything queued, one call at a time, taking all that queued meanwhile (group commit). */
function groupCommitter(commit: (frames: Buffer[]) => Promise<void>, onError: (error: unknown) => void) {
  let queue: Buffer[] = [];
  let busy = false;
  const run = (): void => {
    if (busy || queue.length === 0) return;
    busy = true;
    const batch = queue;
    queue = [];
    commit(batch).then(
      () => {
        busy = false;
        run();
      },
      onError,
    );
  };
  return (frames: Buffer[]): void => {
    queue.push(...frames);
    run();
  };
}

function send(message: FloorMessage): void {
  // The bench may be gone already (it kills the floor when done): nothing to tell then.
  if (process.connected) process.send?.(message);
}

function fail(error: unknown): never {
  send({ failed: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

/** Says which ports this role listens on and waits to be told its peers' ports. */
function handshake(listening: Partial<FloorPorts>): Promise<FloorPorts> {
  const told = new Promise<FloorPorts>((resolve) => process.once('message', (message) => resolve((message as FloorCommand).connect)));
  send({ listening });
  return told;
}

/** A server whose connections' frames, each read's worth together, go to `onFrames`; `onSocket` sees each connection. */
function listenForFrames(onFrames: (frames: Buffer[]) => void, onSocket?: (socket: Socket) => void) {
  return listen((socket) => {
    onSocket?.(socket);
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => onFrames(reader.push(chunk)));
  });
}

async function gateway(): Promise<void> {
  let broker: Socket | undefined;
  let producer: Socket | undefined;
  let consumer: Socket | undefined;
  const produce = await listenForFrames(
    (frames) => broker?.write(encodeFrames(frames)),
    (socket) => (producer = socket),
  );
  const consume = await listen((socket) => (consumer = socket));
  const deliver = await listenForFrames((frames) => consumer?.write(encodeFrames(frames)));
  const ports = await handshake({ produce: produce.port, consume: consume.port, deliver: deliver.port });
  broker = await dial(ports.append);
  // Acknowledgements go back to the producing client as they are.
  broker.on('data', (chunk: Buffer) => producer?.write(chunk));
  send({ ready: true });
}

async function broker(): Promise<void> {
  const walFile = process.env[FLOOR_ENV.walFile];
  if (!walFile) throw new Error(`${FLOOR_ENV.walFile} is not set`);
  const fd = openSync(walFile, 'w');
  let replica: Socket | undefined;
  let gatewaySocket: Socket | undefined;
  // As partq's broker: one write of the whole group, one fdatasync on the thread pool, then acknowledge and publish.
  const append = groupCommitter(async (frames) => {
    const bytes = encodeFrames(frames);
    writeSync(fd, bytes);
    await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
    gatewaySocket?.write(encodeAck(frames.length));
    replica?.write(bytes);
  }, fail);
  const server = await listenForFrames(append, (socket) => (gatewaySocket = socket));
  const ports = await handshake({ append: server.port });
  replica = await dial(ports.push);
  send({ ready: true });
}

async function replica(): Promise<void> {
  const databaseUrl = process.env[FLOOR_ENV.databaseUrl];
  const table = process.env[FLOOR_ENV.table];
  if (!databaseUrl || !table) throw new Error(`${FLOOR_ENV.databaseUrl} and ${FLOOR_ENV.table} must be set`);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  let gatewaySocket: Socket | undefined;
  let position = 0;
  // As partq's replica: the consumer's position is committed durably before the messages go out.
  const deliver = groupCommitter(async (frames) => {
    position += frames.length;
    await db.query(`UPDATE ${table} SET position = $1 WHERE id = 1`, [position]);
    gatewaySocket?.write(encodeFrames(frames));
  }, fail);
  const server = await listenForFrames(deliver);
  const ports = await handshake({ push: server.port });
  gatewaySocket = await dial(ports.deliver);
  send({ ready: true });
}

const ROLES: Record<FloorRole, () => Promise<void>> = { gateway, broker, replica };

if (require.main === module) {
  const role = process.argv[2] as FloorRole;
  const start = ROLES[role];
  if (!start) fail(new Error(`unknown role '${String(role)}'`));
  // A peer that goes away (the bench tearing the floor down) ends this process quietly.
  process.on('uncaughtException', fail);
  start().catch(fail);
}
