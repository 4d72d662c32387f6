import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError, createContextKey, createContextValues, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { ConsumerService, type ConsumerServiceRegisterRequest, type DequeueRequest } from '@partq/client-core';

/** What the fake does instead of serving the next call of a method. */
export type Fault =
  /** Fails. `partqCode` goes into the `partq-error-code` header. */
  | { kind: 'error'; code: Code; partqCode?: string; message?: string }
  /** Drops the connection without answering. */
  | { kind: 'reset' }
  /** Serves the call (positions move), then drops the connection: the answer is lost. */
  | { kind: 'lose-answer' };

type Method = 'listTopics' | 'register' | 'dequeue' | 'size';

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
  }

  failNext(method: Method, ...faults: Fault[]): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...faults]);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private service() {
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
            messages.push({ partitionId: partition, offset: BigInt(offset), ...stored });
            progress = true;
          }
        }
        consumer.turn = (consumer.turn + 1) % partitions.length;
        if (messages.length > 0) consumer.last = { requestId: request.requestId, messages };
        if (fault?.kind === 'lose-answer') await this.loseAnswer(ctx);
        return { messages };
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

/** A base URL where nothing listens (a port just closed). */
export async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
