import { Writable } from 'node:stream';
import type { ServiceImpl } from '@connectrpc/connect';
import { BrokerService, type AppendRequest } from '@partq/proto';
import { runWithRequestId } from '../context/request-context.js';
import { PartqError } from '../errors/partq-error.js';
import { wrapServiceImpl } from '../errors/wrap-service.js';
import { createLogger } from '../log/create-logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { counted } from '../server/counted.test-support.js';
import { answerMultiplexedCalls } from '../server/multiplexed-calls.js';
import { multiplexedCallsCountedAs } from '../server/multiplexed-call-metrics.js';
import { startServiceServer, type ServiceServer } from '../server/start-service-server.js';
import { closeRpcTransports, createRpcClient } from './transport.js';

/*
 * The lean bidi handler's answers to bad stream input are tested once, in
 * server/lean-bidi-stream.test.ts.
 */

/** What a stand-in broker saw: Appends as calls of their own, AppendStreams, and Appends on them. */
const seen = { unary: 0, streams: 0, streamCalls: 0 };

/** Answers an Append with its partition id as the base offset; topic 404 fails NOT_FOUND. */
async function append(request: AppendRequest) {
  if (request.topicId === 404) throw new PartqError('NOT_FOUND', 'no such topic', { topicId: 404 });
  return { baseOffset: BigInt(request.partitionId) };
}

const impl: Partial<ServiceImpl<typeof BrokerService>> = {
  append(request) {
    seen.unary++;
    return append(request);
  },
  appendStream(calls) {
    seen.streams++;
    return answerMultiplexedCalls(
      counted(calls, () => seen.streamCalls++),
      append,
      { ...multiplexedCallsCountedAs(registry, BrokerService.method.append), maxInFlight: 16 },
    );
  },
};

const registry = createMetricsRegistry('broker');
let server: ServiceServer;

beforeAll(async () => {
  server = await startServiceServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ role: 'broker', instanceId: 'b-1', destination: new Writable({ write: (_c, _e, done) => done() }) }),
    registry,
    routes: (router) => router.service(BrokerService, wrapServiceImpl(impl as ServiceImpl<typeof BrokerService>)),
  });
});

afterAll(async () => {
  closeRpcTransports();
  await server.close();
});

describe('Appends between roles (createRpcClient)', () => {
  it('travel as messages of one AppendStream, each answered as the call it stands for', async () => {
    const broker = createRpcClient(BrokerService, server.url);
    const answers = await Promise.all([1, 2, 3, 4].map((partitionId) => broker.append({ topicId: 1, partitionId })));
    expect(answers.map((a) => Number(a.baseOffset))).toEqual([1, 2, 3, 4]);
    await expect(broker.append({ topicId: 404, partitionId: 0 })).rejects.toMatchObject({ rawMessage: 'no such topic' });
    expect(seen).toEqual({ unary: 0, streams: 1, streamCalls: 5 });
    // Each counts as an Append call in the server's metrics.
    const text = await registry.metrics();
    expect(text).toMatch(/partq_rpc_duration_seconds_count\{[^}]*method="Append",code="OK"[^}]*\} 4/);
    expect(text).toMatch(/partq_rpc_duration_seconds_count\{[^}]*method="Append",code="NOT_FOUND"[^}]*\} 1/);
  });

  it('go as calls of their own when over 64 KiB: their cost is in their bytes', async () => {
    const before = { ...seen };
    const broker = createRpcClient(BrokerService, server.url);
    await broker.append({ topicId: 1, partitionId: 8, recordsData: new Uint8Array(70 * 1024) });
    expect(seen.unary).toBe(before.unary + 1);
    expect(seen.streamCalls).toBe(before.streamCalls);
  });

  it('go as calls of their own while a request id is followed, so the id reaches the broker', async () => {
    const before = { ...seen };
    const broker = createRpcClient(BrokerService, server.url);
    await runWithRequestId('req-7', () => broker.append({ topicId: 1, partitionId: 7 }));
    expect(seen.unary).toBe(before.unary + 1);
    expect(seen.streamCalls).toBe(before.streamCalls);
  });
});
