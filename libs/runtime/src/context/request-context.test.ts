import type { ServiceImpl } from '@connectrpc/connect';
import { Writable } from 'node:stream';
import { EchoService } from '../../test/echo-service.js';
import { createLogger } from '../log/create-logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { closeRpcTransports, createRpcClient } from '../rpc/transport.js';
import { startServiceServer, type ServiceServer } from '../server/start-service-server.js';
import { REQUEST_ID_HEADER, currentRequestId } from './request-context.js';

/** Two hops: a front server whose handler calls a back server. The request id must reach both, and their logs. */
describe('request ids across hops', () => {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ role: 'test', instanceId: 't', destination: stream });
  let back: ServiceServer;
  let front: ServiceServer;
  const seenAtBack: (string | undefined)[] = [];

  beforeAll(async () => {
    const backImpl: ServiceImpl<typeof EchoService> = {
      async echo(req) {
        seenAtBack.push(currentRequestId());
        logger.info({ value: req.value }, 'back served');
        return { value: `back:${req.value}` };
      },
      async *count() {},
    };
    back = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      registry: createMetricsRegistry('back'),
      routes: (router) => router.service(EchoService, backImpl),
    });
    const backClient = createRpcClient(EchoService, back.url);
    const frontImpl: ServiceImpl<typeof EchoService> = {
      async echo(req) {
        const answer = await backClient.echo({ value: req.value });
        return { value: `front:${answer.value}` };
      },
      async *count() {},
    };
    front = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      registry: createMetricsRegistry('front'),
      routes: (router) => router.service(EchoService, frontImpl),
      configure: (app) => {
        app.get('/hello', async (request) => {
          request.log.info('hello served');
          return { requestId: currentRequestId() ?? null };
        });
      },
    });
  });

  afterAll(async () => {
    await front?.close();
    await back?.close();
    closeRpcTransports();
  });

  it('carries the caller id through the next hop and into log lines', async () => {
    const client = createRpcClient(EchoService, front.url);
    const answer = await client.echo({ value: 'x' }, { headers: { [REQUEST_ID_HEADER]: 'trace-123' } });
    expect(answer.value).toBe('front:back:x');
    expect(seenAtBack).toEqual(['trace-123']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.find((l) => l.msg === 'back served')).toMatchObject({ requestId: 'trace-123' });
  });

  it('follows the id a plain HTTP request brings, and echoes it', async () => {
    const response = await fetch(`${front.url}/hello`, { headers: { [REQUEST_ID_HEADER]: 'abc' } });
    expect(response.headers.get(REQUEST_ID_HEADER)).toBe('abc');
    expect(await response.json()).toEqual({ requestId: 'abc' });
  });

  it('gives a request without an id a new one, in its answer and its request log lines, without following it', async () => {
    lines.length = 0;
    const fresh = await fetch(`${front.url}/hello`);
    const freshId = fresh.headers.get(REQUEST_ID_HEADER);
    expect(freshId).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    // Not followed: code below the route sees no id (following costs every async step; see request-context.ts).
    expect(await fresh.json()).toEqual({ requestId: null });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.find((l) => l.msg === 'hello served')).toMatchObject({ requestId: freshId });
    const another = await fetch(`${front.url}/hello`);
    expect(another.headers.get(REQUEST_ID_HEADER)).not.toBe(freshId);
  });

  it('answers a Connect call without an id with a new one, and does not pass it on', async () => {
    seenAtBack.length = 0;
    let echoed: string | null = null;
    const client = createRpcClient(EchoService, front.url);
    await client.echo({ value: 'y' }, { onHeader: (headers) => (echoed = headers.get(REQUEST_ID_HEADER)) });
    expect(echoed).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(seenAtBack).toEqual([undefined]);
  });

  it('ignores an unacceptable id: the answer carries a new one and nothing is followed', async () => {
    seenAtBack.length = 0;
    let echoed: string | null = null;
    const client = createRpcClient(EchoService, front.url);
    await client.echo({ value: 'z' }, { headers: { [REQUEST_ID_HEADER]: 'no spaces allowed' }, onHeader: (headers) => (echoed = headers.get(REQUEST_ID_HEADER)) });
    expect(echoed).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(seenAtBack).toEqual([undefined]);
  });
});
