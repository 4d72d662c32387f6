import http2 from 'node:http2';
import { Writable } from 'node:stream';
import { createClient, type ServiceImpl } from '@connectrpc/connect';
import { createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { createLeanUnaryTransport } from '@partq/client-core';
import { ProducerService, type SendRequest } from '@partq/proto';
import { PartqError } from '../errors/partq-error.js';
import { wrapServiceImpl } from '../errors/wrap-service.js';
import { createLogger } from '../log/create-logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { counted } from './counted.test-support.js';
import { answerMultiplexedCalls } from './multiplexed-calls.js';
import { multiplexedCallsCountedAs } from './multiplexed-call-metrics.js';
import { startServiceServer, type ServiceServer } from './start-service-server.js';

/** What a stand-in gateway saw: Sends as calls of their own, SendStreams, and Sends on them. */
const seen = { unary: 0, streams: 0, streamCalls: 0 };

/** Answers a Send with its producer id as the one partition id; producer 404 fails NOT_FOUND. */
async function send(request: SendRequest) {
  if (request.producerId === 404) throw new PartqError('NOT_FOUND', 'producer 404 is not registered', { producerId: 404 });
  return { partitionIds: [request.producerId], offsets: [0n] };
}

const registry = createMetricsRegistry('gateway');
const impl: Partial<ServiceImpl<typeof ProducerService>> = {
  send(request) {
    seen.unary++;
    return send(request);
  },
  sendStream(calls) {
    seen.streams++;
    return answerMultiplexedCalls(
      counted(calls, () => seen.streamCalls++),
      send,
      { ...multiplexedCallsCountedAs(registry, ProducerService.method.send), maxInFlight: 16 },
    );
  },
};

let server: ServiceServer;
let sessions: Http2SessionManager;

beforeAll(async () => {
  server = await startServiceServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ role: 'gateway', instanceId: 'g-1', destination: new Writable({ write: (_c, _e, done) => done() }) }),
    registry,
    routes: (router) => router.service(ProducerService, wrapServiceImpl(impl as ServiceImpl<typeof ProducerService>)),
  });
  sessions = new Http2SessionManager(server.url);
});

afterAll(async () => {
  sessions.abort();
  await server.close();
});

describe('a bidirectional stream on a service server (the lean handler)', () => {
  it('carries multiplexed calls, each answered as the call it stands for and counted as one', async () => {
    const streams = createConnectTransport({ baseUrl: server.url, httpVersion: '2', useBinaryFormat: true, sessionManager: sessions });
    const transport = createLeanUnaryTransport({
      baseUrl: server.url,
      http2: sessions,
      streams,
      multiplexed: [{ unary: ProducerService.method.send, stream: ProducerService.method.sendStream }],
    });
    const client = createClient(ProducerService, transport);
    const answers = await Promise.all([1, 2, 3, 4].map((producerId) => client.send({ topic: 't', producerId })));
    expect(answers.map((a) => a.partitionIds[0])).toEqual([1, 2, 3, 4]);
    await expect(client.send({ topic: 't', producerId: 404 })).rejects.toMatchObject({ rawMessage: 'producer 404 is not registered' });
    expect(seen).toEqual({ unary: 0, streams: 1, streamCalls: 5 });
    const text = await registry.metrics();
    expect(text).toMatch(/partq_rpc_duration_seconds_count\{[^}]*method="Send",code="OK"[^}]*\} 4/);
    expect(text).toMatch(/partq_rpc_duration_seconds_count\{[^}]*method="Send",code="NOT_FOUND"[^}]*\} 1/);
  });

  it.each([
    ['a compressed message without an encoding', Buffer.from([1, 0, 0, 0, 2, 8, 1])],
    ['bytes that are no SendStreamRequest', Buffer.from([0, 0, 0, 0, 2, 0xff, 0xff])],
    ['a stream that ends inside a message', Buffer.from([0, 0, 0, 0, 9, 8])],
  ])('ends a stream with %s as INVALID_ARGUMENT, running nothing', async (_what, body) => {
    const before = { ...seen };
    const session = http2.connect(server.url);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/partq.v1.ProducerService/SendStream', 'content-type': 'application/connect+proto' });
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      await new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.end(body);
      });
      const answer = Buffer.concat(chunks);
      expect(answer[0]).toBe(2); // the end-of-stream message, and nothing before it
      expect(JSON.parse(answer.subarray(5).toString())).toMatchObject({ error: { code: 'invalid_argument' } });
      expect(seen.unary + seen.streamCalls).toBe(before.unary + before.streamCalls);
    } finally {
      session.close();
    }
  });
});
