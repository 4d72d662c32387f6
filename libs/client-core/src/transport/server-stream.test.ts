import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type ServiceImpl } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { ConsumerServiceConsumeResponseSchema } from '../gen/partq/v1/client_pb.js';
import { ConsumerService } from '../wire.js';
import { failureOf } from '../../test/failure-of.js';
import { createLeanUnaryTransport } from './lean-unary-transport.js';
import type { WireDecoders } from './answer-decoding.js';
import { wireBytesOf } from './wire-bytes.js';

// Server streams read by hand (server-stream.ts) over HTTP/1.1 and HTTP/2, against connect-node's
// own server: messages with their wire bytes, headers, trailers, errors, cancel, deadline, a cut stream.

/** Consume calls whose handler saw the call end (the client went, or the deadline passed). */
let handlersAborted = 0;

/** Answers Consume by its topic: "count" streams consumer_id messages, "fail-first" / "fail-mid" fail, "endless" never ends. */
const impl: Partial<ServiceImpl<typeof ConsumerService>> = {
  async *consume(request, context) {
    context.responseHeader.set('x-answer', 'yes');
    if (request.topic === 'fail-first') throw new ConnectError('no such consumer', Code.NotFound, { 'partq-error-code': 'NOT_FOUND' });
    if (request.topic === 'endless') {
      try {
        for (let i = 0; ; i++) {
          yield { messages: [{ partitionId: 0, offset: BigInt(i), payload: Buffer.from(`m${i}`) }] };
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (context.signal.aborted) return;
        }
      } finally {
        handlersAborted++;
      }
    }
    for (let i = 0; i < request.consumerId; i++) {
      if (request.topic === 'fail-mid' && i === 2) throw new ConnectError('partition moved', Code.Unavailable, { 'partq-error-code': 'NOT_OWNER' });
      yield { messages: [{ partitionId: i % 3, offset: BigInt(i), payload: Buffer.alloc(i * 1000, i), key: i % 2 === 0 ? Buffer.from(`k${i}`) : undefined }] };
    }
    context.responseTrailer.set('x-trailer', `sent ${request.consumerId}`);
  },
};

type Version = '1.1' | '2';
type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

describe.each<Version>(['1.1', '2'])('over HTTP/%s', (version) => {
  let server: http.Server | http2.Http2Server;
  let url: string;
  const sockets = new Set<{ destroy(): void }>();
  const sessions: Http2SessionManager[] = [];

  /** Drops the stream without its end-of-stream message: the connection (HTTP/1.1) or the stream (HTTP/2). */
  const cut = (req: Request): void => {
    if ('stream' in req) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    else req.socket.destroy();
  };

  beforeAll(async () => {
    const adapter = connectNodeAdapter({ routes: (router) => router.service(ConsumerService, impl) });
    const handle = (req: Request, res: Response): void => {
      if (req.headers['x-test'] === 'cut') {
        // One message, then the stream drops without an end-of-stream message.
        const message = Buffer.from(toBinary(ConsumerServiceConsumeResponseSchema, { $typeName: 'partq.v1.ConsumerServiceConsumeResponse', messages: [] }));
        res.writeHead(200, { 'content-type': 'application/connect+proto' });
        (res as http.ServerResponse).write(Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]));
        setTimeout(() => cut(req), 20);
        return;
      }
      if (req.headers['x-test'] === 'proxy') {
        (res as http.ServerResponse).writeHead(503, { 'content-type': 'text/html' }).end('<h1>down for maintenance</h1>');
        return;
      }
      adapter(req, res);
    };
    server = version === '2' ? http2.createServer(handle) : http.createServer(handle);
    server.on('connection', (socket: { destroy(): void }) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const manager of sessions) manager.abort();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A client of `base` over this version, with a default header and `decoders`. */
  const clientOf = (base: string, decoders?: WireDecoders) => {
    if (version === '2') {
      const manager = new Http2SessionManager(base);
      sessions.push(manager);
      const streams = createConnectTransport({ baseUrl: base, httpVersion: '2', useBinaryFormat: true, sessionManager: manager });
      return createClient(ConsumerService, createLeanUnaryTransport({ baseUrl: base, http2: manager, streams, headers: () => ({ 'x-default': 'd' }), decoders }));
    }
    const agent = new http.Agent({ keepAlive: true });
    const streams = createConnectTransport({ baseUrl: base, httpVersion: '1.1', useBinaryFormat: true, nodeOptions: { agent } });
    return createClient(ConsumerService, createLeanUnaryTransport({ baseUrl: base, agent, streams, headers: () => ({ 'x-default': 'd' }), decoders }));
  };
  const client = (decoders?: WireDecoders) => clientOf(url, decoders);

  it('reads every message, each marked with its wire bytes, with the headers and the trailers', async () => {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const received = [];
    for await (const response of client().consume({ topic: 'count', consumerId: 40 }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) })) {
      received.push(response);
    }
    expect(received.map((r) => Number(r.messages[0]!.offset))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(received[39]!.messages[0]!.payload.byteLength).toBe(39_000);
    expect(Buffer.from(received[2]!.messages[0]!.key!).toString()).toBe('k2');
    for (const response of received) expect(Buffer.from(wireBytesOf(response)!).equals(Buffer.from(toBinary(ConsumerServiceConsumeResponseSchema, response)))).toBe(true);
    expect(header?.get('x-answer')).toBe('yes');
    expect(trailer?.get('x-trailer')).toBe('sent 40');
  });

  it("reads each message with the answer type's hand-written decoder, and with fromBinary when it declines", async () => {
    const seen: number[] = [];
    const decoders: WireDecoders = new Map([
      [
        ConsumerServiceConsumeResponseSchema.typeName,
        (bytes: Uint8Array) => {
          seen.push(bytes.byteLength);
          // Declines every other message: those are read by fromBinary.
          return seen.length % 2 === 0 ? undefined : { $typeName: ConsumerServiceConsumeResponseSchema.typeName, messages: [] };
        },
      ],
    ]);
    const received = [];
    for await (const response of client(decoders).consume({ topic: 'count', consumerId: 4 })) received.push(response);
    expect(seen).toHaveLength(4);
    expect(received.map((r) => r.messages.length)).toEqual([0, 1, 0, 1]);
    expect(Number(received[3]!.messages[0]!.offset)).toBe(3);
  });

  it('fails with the code and metadata of an error sent before the first message', async () => {
    const failure = await failureOf((async () => {
      for await (const _ of client().consume({ topic: 'fail-first', consumerId: 1 }));
    })());
    expect(failure.code).toBe(Code.NotFound);
    expect(failure.rawMessage).toBe('no such consumer');
    expect(failure.metadata.get('partq-error-code')).toBe('NOT_FOUND');
  });

  it('delivers the messages before an error raised mid-stream, then the error', async () => {
    const offsets: number[] = [];
    const failure = await failureOf((async () => {
      for await (const response of client().consume({ topic: 'fail-mid', consumerId: 5 })) offsets.push(Number(response.messages[0]!.offset));
    })());
    expect(offsets).toEqual([0, 1]);
    expect(failure.code).toBe(Code.Unavailable);
    expect(failure.metadata.get('partq-error-code')).toBe('NOT_OWNER');
  });

  it("stops the call when the caller's signal aborts, and the server sees it end", async () => {
    const before = handlersAborted;
    const controller = new AbortController();
    let count = 0;
    const failure = await failureOf((async () => {
      for await (const _ of client().consume({ topic: 'endless', consumerId: 1 }, { signal: controller.signal })) {
        if (++count === 3) controller.abort();
      }
    })());
    expect(failure.code).toBe(Code.Canceled);
    for (let i = 0; i < 100 && handlersAborted === before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(handlersAborted).toBe(before + 1);
  });

  it('stops the call at its deadline', async () => {
    const failure = await failureOf((async () => {
      for await (const _ of client().consume({ topic: 'endless', consumerId: 1 }, { timeoutMs: 100 }));
    })());
    expect(failure.code).toBe(Code.DeadlineExceeded);
  });

  it('fails with UNAVAILABLE when the stream is cut without its end, or the server cannot be reached', async () => {
    const cut = await failureOf((async () => {
      for await (const _ of client().consume({ topic: 'count', consumerId: 1 }, { headers: { 'x-test': 'cut' } }));
    })());
    expect(cut.code).toBe(Code.Unavailable);

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const dead = clientOf(`http://127.0.0.1:${(closed.address() as AddressInfo).port}`);
    await new Promise((resolve) => closed.close(resolve));
    const refused = await failureOf((async () => {
      for await (const _ of dead.consume({ topic: 'count', consumerId: 1 }));
    })());
    expect(refused.code).toBe(Code.Unavailable);
  });

  it('turns an answer that is not a Connect stream (a proxy page) into the code of its HTTP status', async () => {
    const failure = await failureOf((async () => {
      for await (const _ of client().consume({ topic: 'count', consumerId: 1 }, { headers: { 'x-test': 'proxy' } }));
    })());
    expect(failure.code).toBe(Code.Unavailable);
  });

  it('survives a connection cut while the caller is not reading, and reports it when it reads on', async () => {
    const stream = client().consume({ topic: 'count', consumerId: 1 }, { headers: { 'x-test': 'cut' } })[Symbol.asyncIterator]();
    expect((await stream.next()).done).toBe(false);
    // The server cuts the connection 20 ms after its first message; nobody reads meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await failureOf(stream.next())).code).toBe(Code.Unavailable);
  });
});
