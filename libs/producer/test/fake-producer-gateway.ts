import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError, createContextKey, createContextValues, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { fromBinary } from '@bufbuild/protobuf';
import { ProducerService, SendMessageBatchSchema, type SendRequest } from '@partq/client-core';

/** What the fake does instead of (or after) serving the next call of a method. */
export type Fault =
  /** Fails before anything is written. `partqCode` goes into the `partq-error-code` header. */
  | { kind: 'error'; code: Code; partqCode?: string; message?: string }
  /** Writes, then fails: the client cannot know the write happened. */
  | { kind: 'error-after-write'; code: Code; partqCode?: string }
  /** Drops the connection before writing. */
  | { kind: 'reset' }
  /** Writes, then drops the connection without answering. */
  | { kind: 'reset-after-write' }
  /** Writes, then answers only after `ms` (longer than the client waits). */
  | { kind: 'delay-after-write'; ms: number };

export interface StoredMessage {
  value: string;
  key?: string;
  producerId: number;
  sequence?: bigint;
}

type Method = 'createTopic' | 'listTopics' | 'register' | 'send';

const rawRequest = createContextKey<http.IncomingMessage | undefined>(undefined);
const utf8 = new TextDecoder();

/**
 * An in-process ProducerService that behaves like the gateway where the tests need it (topics,
 * registration, partition choice, dedup of (producer, sequence)) and fails on demand.
 */
export class FakeProducerGateway {
  readonly topics = new Map<string, { partitions: StoredMessage[][]; retentionMs?: bigint; retentionBytes?: bigint }>();
  readonly producers = new Map<number, { topic: string; partition?: number }>();
  /** Every Send call that reached a handler, failed ones included (messages_data decoded into `messages`). */
  readonly sendRequests: SendRequest[] = [];
  /** Most Send calls handled at the same time. */
  maxConcurrentSends = 0;
  concurrentSends = 0;
  private readonly faults = new Map<Method, Fault[]>();
  private readonly written = new Map<string, { partition: number; offset: number }>();
  private nextProducerId = 1;
  private roundRobin = 0;
  private gate: Promise<void> | undefined;
  private readonly arrivals: Array<() => void> = [];

  private readonly server: http.Server | http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  private constructor(httpVersion: '1.1' | '2') {
    const handler = withoutClientDeadline(connectNodeAdapter({
      routes: (router) => router.service(ProducerService, this.service()),
      contextValues: (req) => createContextValues().set(rawRequest, req as http.IncomingMessage),
    }));
    if (httpVersion === '2') {
      const server = http2.createServer(handler);
      server.on('session', (session) => {
        this.sessions.add(session);
        session.once('close', () => this.sessions.delete(session));
      });
      this.server = server;
    } else {
      this.server = http.createServer(handler);
    }
  }

  /** Serves HTTP/1.1 by default, or cleartext HTTP/2 (h2c). */
  static async start(httpVersion: '1.1' | '2' = '1.1'): Promise<FakeProducerGateway> {
    const fake = new FakeProducerGateway(httpVersion);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Makes the next calls of `method` fail, one fault per call. */
  failNext(method: Method, ...faults: Fault[]): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...faults]);
  }

  /** Holds every Send in its handler until the returned function is called. */
  holdSends(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  /** Resolves once `count` Send calls in all have arrived. */
  async sendsArrived(count: number): Promise<void> {
    while (this.sendRequests.length < count) await new Promise<void>((resolve) => this.arrivals.push(resolve));
  }

  /** Every stored message of a topic, partition by partition. */
  log(topic: string): StoredMessage[] {
    return this.topics.get(topic)?.partitions.flat() ?? [];
  }

  async stop(): Promise<void> {
    if (this.server instanceof http.Server) this.server.closeAllConnections();
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private service() {
    return {
      createTopic: async (request: { name: string; partitions: number; retentionMs?: bigint; retentionBytes?: bigint }, ctx: HandlerContext) => {
        const fault = this.faults.get('createTopic')?.shift();
        if (fault) await this.applyBeforeWrite(fault, ctx);
        if (this.topics.has(request.name)) {
          throw new ConnectError(`topic '${request.name}' exists`, Code.AlreadyExists, { 'partq-error-code': 'ALREADY_EXISTS' });
        }
        const topic = this.addTopic(request.name, request.partitions || 1);
        if (request.retentionMs !== undefined) topic.retentionMs = request.retentionMs;
        if (request.retentionBytes !== undefined) topic.retentionBytes = request.retentionBytes;
        if (fault) await this.applyAfterWrite(fault, ctx);
        return {};
      },
      listTopics: async (_request: unknown, ctx: HandlerContext) => {
        await this.before('listTopics', ctx);
        return { topics: [...this.topics.keys()] };
      },
      register: async (request: { topic: string; partitionId?: number }, ctx: HandlerContext) => {
        await this.before('register', ctx);
        const topic = this.topics.get(request.topic) ?? this.addTopic(request.topic, 1);
        const producerId = this.nextProducerId++;
        this.producers.set(producerId, { topic: request.topic, ...(request.partitionId === undefined ? {} : { partition: request.partitionId }) });
        return { producerId, partitionCount: topic.partitions.length };
      },
      send: async (request: SendRequest, ctx: HandlerContext) => {
        const packed = request.messages.length === 0 && request.messagesData.byteLength > 0;
        if (packed) request.messages = fromBinary(SendMessageBatchSchema, request.messagesData).messages;
        this.sendRequests.push(request);
        this.arrivals.splice(0).forEach((notify) => notify());
        this.concurrentSends++;
        this.maxConcurrentSends = Math.max(this.maxConcurrentSends, this.concurrentSends);
        try {
          if (this.gate) await this.gate;
          const fault = this.faults.get('send')?.shift();
          if (fault) await this.applyBeforeWrite(fault, ctx);
          const results = this.write(request);
          if (fault) await this.applyAfterWrite(fault, ctx);
          if (!packed) return { results };
          return {
            partitionIds: results.map((r) => r.partitionId),
            offsets: results.map((r) => r.offset),
            duplicateIndexes: results.flatMap((r, i) => (r.duplicate ? [i] : [])),
          };
        } finally {
          this.concurrentSends--;
        }
      },
    };
  }

  private addTopic(name: string, partitions: number) {
    const topic: { partitions: StoredMessage[][]; retentionMs?: bigint; retentionBytes?: bigint } = {
      partitions: Array.from({ length: partitions }, () => [] as StoredMessage[]),
    };
    this.topics.set(name, topic);
    return topic;
  }

  private async before(method: Method, ctx: HandlerContext): Promise<void> {
    const fault = this.faults.get(method)?.shift();
    if (fault) await this.applyBeforeWrite(fault, ctx);
  }

  private async applyBeforeWrite(fault: Fault, ctx: HandlerContext): Promise<void> {
    if (fault.kind === 'error') throw connectError(fault.code, fault.partqCode, fault.message ?? 'injected failure');
    if (fault.kind === 'reset') await dropConnection(ctx);
  }

  private async applyAfterWrite(fault: Fault, ctx: HandlerContext): Promise<void> {
    if (fault.kind === 'error-after-write') throw connectError(fault.code, fault.partqCode, 'injected failure after write');
    if (fault.kind === 'reset-after-write') await dropConnection(ctx);
    if (fault.kind === 'delay-after-write') await answerLate(fault.ms, ctx);
  }

  /** Stores the messages like the broker: a (producer, sequence) seen before gets its first offset back. */
  private write(request: SendRequest) {
    const topic = this.topics.get(request.topic);
    if (!topic) throw new ConnectError(`unknown topic '${request.topic}'`, Code.NotFound, { 'partq-error-code': 'NOT_FOUND' });
    const producer = this.producers.get(request.producerId);
    // As the gateway answers an id it does not know (never handed out, or removed after the cluster's producer expiry).
    if (!producer) {
      throw new ConnectError(`producer ${request.producerId} is not registered`, Code.NotFound, {
        'partq-error-code': 'NOT_FOUND',
        'partq-error-details': JSON.stringify({ producerId: request.producerId }),
      });
    }
    if (producer.topic !== request.topic) {
      throw new ConnectError(`producer ${request.producerId} is not registered for '${request.topic}'`, Code.PermissionDenied, {
        'partq-error-code': 'PERMISSION_DENIED',
      });
    }
    // As the broker: a message whose previous sequence is neither stored nor earlier in the request is
    // refused, and nothing of the request written (the fake keeps one chain per producer, not per partition).
    const inRequest = new Set(request.messages.map((message) => message.sequence));
    for (const message of request.messages) {
      const previous = message.previousSequence;
      if (previous === undefined || inRequest.has(previous) || this.written.has(`${request.producerId}:${previous}`)) continue;
      throw new ConnectError(`sequence ${message.sequence} follows ${previous}, not stored`, Code.Aborted, { 'partq-error-code': 'SEQUENCE_GAP' });
    }
    return request.messages.map((message) => {
      const dedupKey = message.sequence === undefined ? undefined : `${request.producerId}:${message.sequence}`;
      const earlier = dedupKey === undefined ? undefined : this.written.get(dedupKey);
      if (earlier) return { partitionId: earlier.partition, offset: BigInt(earlier.offset), duplicate: true };
      const count = topic.partitions.length;
      const partition =
        producer.partition ??
        message.partitionId ??
        (message.key !== undefined
          ? message.key.reduce((a, b) => a + b, 0) % count
          : message.sequence !== undefined
            ? Number(message.sequence % BigInt(count))
            : this.roundRobin++ % count);
      const log = topic.partitions[partition];
      if (!log) throw new ConnectError(`no partition ${partition}`, Code.InvalidArgument, { 'partq-error-code': 'INVALID_ARGUMENT' });
      log.push({
        value: utf8.decode(message.payload),
        ...(message.key === undefined ? {} : { key: utf8.decode(message.key) }),
        producerId: request.producerId,
        ...(message.sequence === undefined ? {} : { sequence: message.sequence }),
      });
      const offset = log.length - 1;
      if (dedupKey !== undefined) this.written.set(dedupKey, { partition, offset });
      return { partitionId: partition, offset: BigInt(offset), duplicate: false };
    });
  }
}

function connectError(code: Code, partqCode: string | undefined, message: string): ConnectError {
  return new ConnectError(message, code, partqCode === undefined ? undefined : { 'partq-error-code': partqCode });
}

/**
 * Destroys the socket under the call: the client sees a reset connection and no answer. The handler
 * then never settles, so Connect does not try (and log its failure) to answer on the dead socket.
 */
function dropConnection(ctx: HandlerContext): Promise<never> {
  ctx.values.get(rawRequest)?.socket.destroy();
  return new Promise<never>(() => undefined);
}

/** Waits `ms`; if the client hangs up meanwhile, never settles (there is nobody to answer). */
async function answerLate(ms: number, ctx: HandlerContext): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    ctx.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });
}

/**
 * Hides the client's timeout (`connect-timeout-ms`) from Connect: a fault that never settles its
 * handler would otherwise leave Connect's server-side deadline timer running past the test.
 */
function withoutClientDeadline(handler: ReturnType<typeof connectNodeAdapter>): ReturnType<typeof connectNodeAdapter> {
  return (req, res) => {
    delete req.headers['connect-timeout-ms'];
    handler(req, res);
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
