import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type ServiceImpl } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { ProducerServiceRegisterRequestSchema, ProducerServiceRegisterResponseSchema } from '../gen/partq/v1/client_pb.js';
import { describeRpcFailure } from '../errors/rpc-error-mapping.js';
import { ProducerService } from '../wire.js';
import { failureOf } from '../../test/failure-of.js';
import { createLeanUnaryTransport } from './lean-unary-transport.js';
import type { WireDecoders } from './answer-decoding.js';
import { withWireBytes } from './wire-bytes.js';

/** Register calls on "slow" whose handler saw the call end (the client went, or the deadline passed). */
let slowCallsEnded = 0;

/**
 * A Connect server (connect-node's own adapter) that answers Register by its topic:
 * "slow" waits for the client to go, "missing" fails with a partq code, "reset" drops the stream,
 * anything else echoes the topic's length as producer_id and the x-test header back as a trailer.
 */
const impl: Partial<ServiceImpl<typeof ProducerService>> = {
  async register(request, context) {
    if (request.topic === 'slow') {
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
      slowCallsEnded++;
      // Never answers: the client is gone, and writing to its closed stream would only log an error.
      return new Promise<never>(() => undefined);
    }
    if (request.topic === 'missing') throw new ConnectError('no such topic', Code.NotFound, { 'partq-error-code': 'NOT_FOUND' });
    context.responseHeader.set('x-answer', 'yes');
    context.responseTrailer.set('x-test', context.requestHeader.get('x-test') ?? 'none');
    return { producerId: request.topic.length, partitionCount: request.partitionId ?? 0 };
  },
};

interface TestServer {
  url: string;
  sessions: number;
  close(): Promise<void>;
}

async function startServer(version: '1.1' | '2'): Promise<TestServer> {
  const adapter = connectNodeAdapter({ routes: (router) => router.service(ProducerService, impl) });
  const state = { sessions: 0 };
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    if (req.url?.endsWith('/Register') && req.headers['x-test'] === 'reset') {
      // Drops the exchange without an answer.
      if ('stream' in req) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      else req.socket.destroy();
      return;
    }
    if (req.url?.endsWith('/Register') && req.headers['x-test'] === 'unanswered' && 'stream' in req) {
      // What a server going away can do to a stream it will not serve: closed cleanly, never answered.
      req.stream.close(http2.constants.NGHTTP2_NO_ERROR);
      return;
    }
    adapter(req as never, res as never);
  };
  const server = version === '2' ? http2.createServer(handler) : http.createServer(handler);
  const open = new Set<{ destroy(): void }>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    state.sessions++;
    open.add(session);
  });
  server.on('connection', (socket: { destroy(): void }) => open.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get sessions() {
      return state.sessions;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const handle of open) handle.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.each(['2', '1.1'] as const)('createLeanUnaryTransport over HTTP/%s', (version) => {
  let server: TestServer;
  let close: () => void;
  let client: ReturnType<typeof createClient<typeof ProducerService>>;

  beforeAll(async () => {
    server = await startServer(version);
    if (version === '2') {
      const sessions = new Http2SessionManager(server.url);
      const streams = createConnectTransport({ baseUrl: server.url, httpVersion: '2', useBinaryFormat: true, sessionManager: sessions });
      client = createClient(ProducerService, createLeanUnaryTransport({ baseUrl: server.url, http2: sessions, streams, headers: () => ({ 'x-test': 'default' }) }));
      close = () => sessions.abort();
    } else {
      const agent = new http.Agent({ keepAlive: true });
      const streams = createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', useBinaryFormat: true, nodeOptions: { agent } });
      client = createClient(ProducerService, createLeanUnaryTransport({ baseUrl: server.url, agent, streams, headers: () => ({ 'x-test': 'default' }) }));
      close = () => agent.destroy();
    }
  });

  afterAll(async () => {
    close();
    await server.close();
  });

  it('makes unary calls with headers and trailers; default headers yield to the call', async () => {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const answer = await client.register({ topic: 'abc', partitionId: 4 }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    expect(answer).toMatchObject({ producerId: 3, partitionCount: 4 });
    expect(header?.get('x-answer')).toBe('yes');
    expect(trailer?.get('x-test')).toBe('default');
    await client.register({ topic: 'abc' }, { headers: { 'x-test': 'mine' }, onTrailer: (t) => (trailer = t) });
    expect(trailer?.get('x-test')).toBe('mine');
  });

  it('shares one connection between many concurrent calls', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => client.register({ topic: 'x'.repeat(i + 1) })));
    expect(answers.map((a) => a.producerId)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    if (version === '2') expect(server.sessions).toBe(1);
  });

  it('reports the server error with its code and metadata', async () => {
    const error = await failureOf(client.register({ topic: 'missing' }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.metadata.get('partq-error-code')).toBe('NOT_FOUND');
    expect(describeRpcFailure(error)).toMatchObject({ code: 'NOT_FOUND', message: 'no such topic' });
  });

  it('fails with DEADLINE_EXCEEDED when the timeout passes, and the server sees the call end', async () => {
    const endedBefore = slowCallsEnded;
    const started = Date.now();
    const error = await failureOf(client.register({ topic: 'slow' }, { timeoutMs: 100 }));
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(slowCallsEnded).toBeGreaterThan(endedBefore);
  });

  it('stops a call when its signal aborts, with CANCELLED, and refuses one already aborted', async () => {
    const controller = new AbortController();
    const call = client.register({ topic: 'slow' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    expect((await failureOf(call)).code).toBe(Code.Canceled);
    expect((await failureOf(client.register({ topic: 'a' }, { signal: controller.signal }))).code).toBe(Code.Canceled);
    // The connection is still good for the next call.
    expect((await client.register({ topic: 'ok' })).producerId).toBe(2);
  });

  it('reports a dropped exchange as UNAVAILABLE, and goes on with the next call', async () => {
    const error = await failureOf(client.register({ topic: 'x' }, { headers: { 'x-test': 'reset' } }));
    expect(describeRpcFailure(error).code).toBe('UNAVAILABLE');
    expect((await client.register({ topic: 'after' })).producerId).toBe(5);
  });

  if (version === '2') {
    it('reports a stream closed cleanly without an answer as UNAVAILABLE, so it is retried', async () => {
      const error = await failureOf(client.register({ topic: 'x' }, { headers: { 'x-test': 'unanswered' } }));
      expect(error.code).toBe(Code.Unavailable);
      expect(describeRpcFailure(error).code).toBe('UNAVAILABLE');
    });
  }

  it('sends a message marked with its wire bytes as those bytes', async () => {
    // The bytes say topic "wire"; the message's own field says otherwise.
    const marked = withWireBytes(create(ProducerServiceRegisterRequestSchema, { topic: 'fields!' }), Uint8Array.from([0x0a, 4, ...Buffer.from('wire')]));
    expect((await client.register(marked)).producerId).toBe(4);
  });
});

describe.each(['2', '1.1'] as const)('createLeanUnaryTransport over HTTP/%s with hand-written decoders', (version) => {
  it("reads an answer with its type's decoder, and with fromBinary when the decoder declines", async () => {
    const server = await startServer(version);
    const sessions = version === '2' ? new Http2SessionManager(server.url) : undefined;
    const agent = version === '1.1' ? new http.Agent({ keepAlive: true }) : undefined;
    const streams = createConnectTransport({ baseUrl: server.url, httpVersion: version, useBinaryFormat: true });
    let declines = false;
    const decoders: WireDecoders = new Map([
      [ProducerServiceRegisterResponseSchema.typeName, () => (declines ? undefined : create(ProducerServiceRegisterResponseSchema, { producerId: 99 }))],
    ]);
    const client = createClient(ProducerService, createLeanUnaryTransport({ baseUrl: server.url, http2: sessions, agent, streams, decoders }));
    try {
      expect((await client.register({ topic: 'abc' })).producerId).toBe(99);
      declines = true;
      expect((await client.register({ topic: 'abc' })).producerId).toBe(3);
    } finally {
      sessions?.abort();
      agent?.destroy();
      await server.close();
    }
  });
});

describe('createLeanUnaryTransport, nobody listening', () => {
  it.each(['2', '1.1'] as const)('reports UNAVAILABLE over HTTP/%s, the network cause kept', async (version) => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const sessions = version === '2' ? new Http2SessionManager(url) : undefined;
    const agent = version === '1.1' ? new http.Agent() : undefined;
    const streams = createConnectTransport({ baseUrl: url, httpVersion: version, useBinaryFormat: true });
    const client = createClient(ProducerService, createLeanUnaryTransport({ baseUrl: url, http2: sessions, agent, streams }));
    const failure = describeRpcFailure(await failureOf(client.register({ topic: 't' })));
    expect(failure.code).toBe('UNAVAILABLE');
    sessions?.abort();
    agent?.destroy();
  });
});

describe('createLeanUnaryTransport over HTTP/2, concurrent large requests', () => {
  it('delivers their bodies whole in the order the calls were made', async () => {
    // A server that notes which call's body it finished reading, in order, and answers each.
    const finished: number[] = [];
    const answer = Buffer.from(toBinary(ProducerServiceRegisterResponseSchema, create(ProducerServiceRegisterResponseSchema, { producerId: 1 })));
    const server = http2.createServer((req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => {
        finished.push(Number(req.headers['x-call']));
        res.writeHead(200, { 'content-type': 'application/proto' });
        res.end(answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sessions = new Http2SessionManager(url);
    const streams = createConnectTransport({ baseUrl: url, httpVersion: '2', useBinaryFormat: true, sessionManager: sessions });
    const client = createClient(ProducerService, createLeanUnaryTransport({ baseUrl: url, http2: sessions, streams }));
    try {
      // Eight at once, as a producer's pipelined batches go; HTTP/2 would interleave their frames.
      const topic = 'x'.repeat(512 * 1024);
      const calls = Array.from({ length: 8 }, (_, call) => client.register({ topic }, { headers: { 'x-call': String(call) } }));
      await Promise.all(calls);
      expect(finished).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      sessions.abort();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
