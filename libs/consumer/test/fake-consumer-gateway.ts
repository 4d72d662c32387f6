import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError, createContextKey, createContextValues, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  ConsumerService,
  type ConsumerServiceCheckpointRequest,
  type ConsumerServiceConsumeRequest,
  type ConsumerServiceRegisterRequest,
  type ConsumerServiceReleaseRequest,
  type DequeueRequest,
} from '@partq/client-core';

/** What the fake does instead of serving the next call of a method. */
export type Fault =
  /** Fails. `partqCode` goes into the `partq-error-code` header. */
  | { kind: 'error'; code: Code; partqCode?: string; message?: string }
  /** Drops the connection without answering. */
  | { kind: 'reset' }
  /** Serves the call (positions move), then drops the connection: the answer is lost. */
  | { kind: 'lose-answer' }
  /** A Consume stream: sends `responses` responses, then makes one more delivery (positions move) and drops the connection. */
  | { kind: 'cut-after'; responses: number }
  /** A Consume stream: sends its first response, then nothing at all (a dead path that keeps the connection). A Checkpoint: no answer until the client gives up. */
  | { kind: 'go-silent' };

type Method = 'listTopics' | 'register' | 'dequeue' | 'size' | 'consume' | 'release' | 'checkpoint';

interface StoredMessage {
  payload: Uint8Array;
  key?: Uint8Array;
  timestampMs: bigint;
}

interface FakeConsumer {
  topic: string;
  partition?: number;
  /** Next offset to hand out, per partition. */
  positions: number[];
  /** Partition to look at first next time (whole-topic consumers take partitions in turn). */
  turn: number;
  /** The last delivery, replayed to a Dequeue that repeats its request id (as the replica does). */
  last?: { requestId: string; messages: WireMessage[] };
  /** Per partition: the stream that moved the position last and where its deliveries began (as the replica keeps them). */
  streams: { streamId?: string; from: number }[];
}

interface WireMessage {
  partitionId: number;
  offset: bigint;
  payload: Uint8Array;
  key?: Uint8Array;
  timestampMs: bigint;
}

const rawRequest = createContextKey<http.IncomingMessage | undefined>(undefined);
const utf8 = new TextEncoder();

/**
 * An in-process ConsumerService that behaves like the gateway where the tests need it (per-consumer
 * positions moved on every answer, latest/earliest start, partitions in turn) and fails on demand.
 */
export class FakeConsumerGateway {
  readonly topics = new Map<string, StoredMessage[][]>();
  readonly consumers = new Map<number, FakeConsumer>();
  readonly dequeueRequests: DequeueRequest[] = [];
  readonly consumeRequests: ConsumerServiceConsumeRequest[] = [];
  readonly releaseRequests: ConsumerServiceReleaseRequest[] = [];
  readonly checkpointRequests: ConsumerServiceCheckpointRequest[] = [];
  /** Checkpoint calls the client cancelled before they were answered. */
  cancelledCheckpoints = 0;
  /** Consume streams open now. */
  openStreams = 0;
  /** Wakes the waiting Consume streams on publish. */
  private readonly published = new Set<() => void>();
  /** Dequeues answered with the last delivery again because they repeated its request id. */
  replays = 0;
  private readonly faults = new Map<Method, Fault[]>();
  private nextConsumerId = 1;
  private readonly server: http.Server;

  private constructor() {
    const handler = connectNodeAdapter({
      routes: (router) => router.service(ConsumerService, this.service()),
      contextValues: (req) => createContextValues().set(rawRequest, req as http.IncomingMessage),
    });
    this.server = http.createServer((req, res) => {
      // Hide the client's timeout from Connect: a fault that never settles its handler would otherwise
      // leave Connect's server-side deadline timer running past the test.
      delete req.headers['connect-timeout-ms'];
      handler(req, res);
    });
  }

  static async start(): Promise<FakeConsumerGateway> {
    muteCancelledStreamReports();
    const fake = new FakeConsumerGateway();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  createTopic(name: string, partitions = 1): void {
    this.topics.set(
      name,
      Array.from({ length: partitions }, () => []),
    );
  }

  /** Appends a message as a producer would. */
  publish(topic: string, value: string, partition = 0, key?: string): void {
    const log = this.topics.get(topic)?.[partition];
    if (!log) throw new Error(`no partition ${partition} of ${topic}`);
    log.push({ payload: utf8.encode(value), ...(key === undefined ? {} : { key: utf8.encode(key) }), timestampMs: 1_700_000_000_000n + BigInt(log.length) });
    for (const wake of [...this.published]) wake();
  }

  /** The consumer's next offset per partition. */
  positionsOf(consumerId: number): number[] {
    return [...this.consumers.get(consumerId)!.positions];
  }

  failNext(method: Method, ...faults: Fault[]): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...faults]);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private service() {
    const fake = this;
    return {
      listTopics: async (_request: unknown, ctx: HandlerContext) => {
        await this.fault('listTopics', ctx);
        return { topics: [...this.topics.keys()] };
      },
      register: async (request: ConsumerServiceRegisterRequest, ctx: HandlerContext) => {
        await this.fault('register', ctx);
        const logs = this.logs(request.topic);
        const consumerId = this.nextConsumerId++;
        this.consumers.set(consumerId, {
          topic: request.topic,
          ...(request.partitionId === undefined ? {} : { partition: request.partitionId }),
          positions: logs.map((log) => (request.fromEarliest ? 0 : log.length)),
          turn: 0,
          streams: logs.map(() => ({ from: 0 })),
        });
        return { consumerId };
      },
      dequeue: async (request: DequeueRequest, ctx: HandlerContext) => {
        this.dequeueRequests.push(request);
        const fault = await this.fault('dequeue', ctx);
        const consumer = this.consumer(request.consumerId, request.topic);
        if (request.requestId !== '' && consumer.last?.requestId === request.requestId) {
          this.replays++;
          if (fault?.kind === 'lose-answer') await this.loseAnswer(ctx);
          return { messages: consumer.last.messages };
        }
        const logs = this.logs(request.topic);
        const partitions = consumer.partition === undefined ? logs.map((_, i) => i) : [consumer.partition];
        const messages: WireMessage[] = [];
        const max = Math.max(request.maxMessages, 1);
        // One message per partition per round, so no partition starves.
        for (let progress = true; progress && messages.length < max; ) {
          progress = false;
          for (let i = 0; i < partitions.length && messages.length < max; i++) {
            const partition = partitions[(consumer.turn + i) % partitions.length]!;
            const offset = consumer.positions[partition]!;
            const stored = logs[partition]![offset];
            if (!stored) continue;
            consumer.positions[partition] = offset + 1;
            consumer.streams[partition] = { from: 0 };
            messages.push({ partitionId: partition, offset: BigInt(offset), ...stored });
            progress = true;
          }
        }
        consumer.turn = (consumer.turn + 1) % partitions.length;
        if (messages.length > 0) consumer.last = { requestId: request.requestId, messages };
        if (fault?.kind === 'lose-answer') await this.loseAnswer(ctx);
        return { messages };
      },
      /** One partition's messages per response, partitions in turn; an empty response first and when idle for 50 ms. */
      consume: async function* (this: void, request: ConsumerServiceConsumeRequest, ctx: HandlerContext) {
        fake.consumeRequests.push(request);
        const fault = await fake.fault('consume', ctx);
        const consumer = fake.consumer(request.consumerId, request.topic);
        fake.rewind(consumer, request.streamId, request.resume);
        fake.openStreams++;
        try {
          let sent = 0;
          let idleSince = -Infinity;
          while (!ctx.signal.aborted) {
            const messages = fake.deliver(consumer, request.streamId, Math.max(request.maxMessages, 1));
            if (fault?.kind === 'cut-after' && sent === fault.responses && messages.length > 0) {
              // Let the responses sent so far reach the client first: only this delivery is lost.
              await new Promise((resolve) => setTimeout(resolve, 50));
              await fake.loseAnswer(ctx);
            }
            if (messages.length > 0 || Date.now() - idleSince >= 50) {
              yield { messages };
              sent++;
              idleSince = Date.now();
              if (fault?.kind === 'go-silent') await new Promise<never>(() => undefined);
              continue;
            }
            await fake.nextPublish(50, ctx.signal);
          }
        } finally {
          fake.openStreams--;
        }
      },
      release: async (request: ConsumerServiceReleaseRequest, ctx: HandlerContext) => {
        fake.releaseRequests.push(request);
        await this.fault('release', ctx);
        this.rewind(this.consumer(request.consumerId, request.topic), request.streamId, request.next);
        return {};
      },
      /** Raises the stream's floor to what its client handed out, as the replica does. */
      checkpoint: async (request: ConsumerServiceCheckpointRequest, ctx: HandlerContext) => {
        fake.checkpointRequests.push(request);
        const fault = await this.fault('checkpoint', ctx);
        if (fault?.kind === 'go-silent') {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          fake.cancelledCheckpoints++;
          throw new ConnectError('the client went away', Code.Canceled);
        }
        const consumer = this.consumer(request.consumerId, request.topic);
        for (const { partitionId, offset } of request.next) {
          const stream = consumer.streams[partitionId];
          if (stream && stream.streamId === request.streamId) stream.from = Math.max(stream.from, Math.min(Number(offset), consumer.positions[partitionId]!));
        }
        return {};
      },
      size: async (request: { topic: string; consumerId: number }, ctx: HandlerContext) => {
        await this.fault('size', ctx);
        const consumer = this.consumer(request.consumerId, request.topic);
        const partitions = this.logs(request.topic)
          .map((log, partition) => ({ partitionId: partition, size: BigInt(log.length - consumer.positions[partition]!) }))
          .filter((p) => consumer.partition === undefined || p.partitionId === consumer.partition);
        return { size: partitions.reduce((sum, p) => sum + p.size, 0n), partitions };
      },
    };
  }

  /** The first partition in turn with messages gives up to `max` of them; the stream is remembered as the replica does. */
  private deliver(consumer: FakeConsumer, streamId: string, max: number): WireMessage[] {
    const logs = this.logs(consumer.topic);
    const partitions = consumer.partition === undefined ? logs.map((_, i) => i) : [consumer.partition];
    for (let i = 0; i < partitions.length; i++) {
      const partition = partitions[(consumer.turn + i) % partitions.length]!;
      const from = consumer.positions[partition]!;
      const stored = logs[partition]!.slice(from, from + max);
      if (stored.length === 0) continue;
      consumer.positions[partition] = from + stored.length;
      if (consumer.streams[partition]!.streamId !== streamId) consumer.streams[partition] = { streamId, from };
      consumer.turn = (consumer.turn + i + 1) % partitions.length;
      return stored.map((message, j) => ({ partitionId: partition, offset: BigInt(from + j), ...message }));
    }
    return [];
  }

  /** Gives back what `streamId` delivered past the given offsets (0 for partitions not listed), never below where it began. */
  private rewind(consumer: FakeConsumer, streamId: string, next: readonly { partitionId: number; offset: bigint }[]): void {
    consumer.streams.forEach((stream, partition) => {
      if (stream.streamId !== streamId) return;
      const target = Math.max(Number(next.find((p) => p.partitionId === partition)?.offset ?? 0n), stream.from);
      if (target < consumer.positions[partition]!) consumer.positions[partition] = target;
    });
  }

  /** Resolves at the next publish, after `ms`, or when `signal` aborts. */
  private nextPublish(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.published.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.published.add(done);
    });
  }

  private logs(topic: string): StoredMessage[][] {
    const logs = this.topics.get(topic);
    if (!logs) throw new ConnectError(`unknown topic '${topic}'`, Code.NotFound, { 'partq-error-code': 'NOT_FOUND' });
    return logs;
  }

  private consumer(id: number, topic: string): FakeConsumer {
    const consumer = this.consumers.get(id);
    if (!consumer) throw new ConnectError(`unknown consumer ${id}`, Code.NotFound, { 'partq-error-code': 'NOT_FOUND' });
    if (consumer.topic !== topic) {
      throw new ConnectError(`consumer ${id} is not subscribed to '${topic}'`, Code.PermissionDenied, { 'partq-error-code': 'PERMISSION_DENIED' });
    }
    return consumer;
  }

  /** Applies the next fault of `method` that acts before serving; returns one that acts after. */
  private async fault(method: Method, ctx: HandlerContext): Promise<Fault | undefined> {
    const fault = this.faults.get(method)?.shift();
    if (!fault) return undefined;
    if (fault.kind === 'error') {
      throw new ConnectError(fault.message ?? 'injected failure', fault.code, fault.partqCode === undefined ? undefined : { 'partq-error-code': fault.partqCode });
    }
    if (fault.kind === 'reset') await this.loseAnswer(ctx);
    return fault;
  }

  /** Destroys the socket and never settles, so Connect does not try to answer on it. */
  private async loseAnswer(ctx: HandlerContext): Promise<never> {
    ctx.values.get(rawRequest)?.socket.destroy();
    return new Promise<never>(() => undefined);
  }
}

/**
 * connect-node reports on console.error every Consume stream, and every unanswered Checkpoint, whose
 * client went away (it writes to the closed response; under jest it does not recognise that as the
 * client's hang-up). Expected here.
 */
function muteCancelledStreamReports(): void {
  const marker = Symbol.for('partq.consumer.test.muted');
  const flagged = console as Console & { [marker]?: true };
  if (flagged[marker]) return;
  flagged[marker] = true;
  const original = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    const cancelled = /^handler for rpc (Consume|Checkpoint) /.test(String(args[0])) && String(args[1]).includes('ERR_STREAM_DESTROYED');
    if (!cancelled) original(...args);
  };
}

/** A base URL where nothing listens (a port just closed). */
export async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
