import http from 'node:http';
import { create } from '@bufbuild/protobuf';
import { StringValueSchema } from '@bufbuild/protobuf/wkt';
import { ConnectError, createClient, type ServiceImpl } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { EchoService } from '../../test/echo-service.js';
import { fromConnectError } from '../errors/connect-mapping.js';
import { PartqError } from '../errors/partq-error.js';
import { wrapServiceImpl } from '../errors/wrap-service.js';
import { createLogger } from '../log/create-logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { sleep } from '../retry.js';
import { startServiceServer, type ServiceServer } from '../server/start-service-server.js';
import { REQUEST_ID_HEADER, runWithRequestId } from '../context/request-context.js';
import { createLeanUnaryTransport } from './lean-unary-transport.js';
import { withWireBytes } from '@partq/client-core';

const seen: { header?: string | undefined; timeoutMs?: number | undefined }[] = [];

const impl: ServiceImpl<typeof EchoService> = {
  async echo(req, ctx) {
    seen.push({ header: ctx.requestHeader.get(REQUEST_ID_HEADER) ?? undefined, timeoutMs: ctx.timeoutMs() });
    if (req.value === 'missing') throw new PartqError('NOT_FOUND', 'no such thing', { name: req.value, count: 3 });
    if (req.value === 'slow') await sleep(2000, ctx.signal);
    ctx.responseHeader.set('x-answer', 'yes');
    ctx.responseTrailer.set('x-done', '1');
    return { value: `echo:${req.value}` };
  },
  async *count(req) {
    for (let i = 0; i < req.value; i++) yield { value: i };
  },
};

let server: ServiceServer;
let agent: http.Agent;

beforeAll(async () => {
  server = await startServiceServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ role: 'broker', instanceId: 'lean', level: 'silent' }),
    registry: createMetricsRegistry('broker'),
    routes: (router) => router.service(EchoService, wrapServiceImpl(impl)),
  });
  agent = new http.Agent({ keepAlive: true });
});

afterAll(async () => {
  agent.destroy();
  await server.close();
});

function client(baseUrl = server.url) {
  const streams = createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: true, nodeOptions: { agent } });
  return createClient(EchoService, createLeanUnaryTransport(baseUrl, agent, streams));
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('createLeanUnaryTransport', () => {
  it('makes unary Connect calls on one keep-alive connection, with headers and trailers', async () => {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const answer = await client().echo({ value: 'a' }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    expect(answer.value).toBe('echo:a');
    expect(header?.get('x-answer')).toBe('yes');
    expect(trailer?.get('x-done')).toBe('1');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => client().echo({ value: String(i) })));
    expect(answers.map((a) => a.value)).toEqual(Array.from({ length: 20 }, (_, i) => `echo:${i}`));
  });

  it('sends a request marked with its wire bytes as those bytes', async () => {
    // 'wire' as a StringValue; the message itself says 'fields', so the answer tells which went out.
    const marked = withWireBytes(create(StringValueSchema, { value: 'fields' }), Uint8Array.from([0x0a, 4, ...Buffer.from('wire')]));
    expect((await client().echo(marked)).value).toBe('echo:wire');
    expect((await client().echo(create(StringValueSchema, { value: 'fields' }))).value).toBe('echo:fields');
  });

  it('carries the partq code and details of a failure, as connect-node does', async () => {
    const error = fromConnectError(await failureOf(client().echo({ value: 'missing' })));
    expect(error).toMatchObject({ code: 'NOT_FOUND', message: 'no such thing', details: { name: 'missing', count: 3 } });
  });

  it('sends the timeout and fails with DEADLINE_EXCEEDED when it passes', async () => {
    await client().echo({ value: 't' }, { timeoutMs: 5000 });
    expect(seen.at(-1)?.timeoutMs).toBeGreaterThan(4000);
    const started = Date.now();
    const error = await failureOf(client().echo({ value: 'slow' }, { timeoutMs: 50 }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(fromConnectError(error).code).toBe('DEADLINE_EXCEEDED');
  });

  it('stops a call when its signal aborts, with CANCELLED', async () => {
    const controller = new AbortController();
    const call = client().echo({ value: 'slow' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const error = await failureOf(call);
    expect(error).toBeInstanceOf(ConnectError);
    expect(fromConnectError(error).code).toBe('CANCELLED');
    expect(fromConnectError(await failureOf(client().echo({ value: 'x' }, { signal: controller.signal }))).code).toBe('CANCELLED');
  });

  it('reports a peer that does not listen as UNAVAILABLE', async () => {
    const error = fromConnectError(await failureOf(client('http://127.0.0.1:1').echo({ value: 'x' })));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retriable).toBe(true);
  });

  it('passes on the request id of the call being served', async () => {
    await runWithRequestId('trace-lean', () => client().echo({ value: 'r' }));
    expect(seen.at(-1)?.header).toBe('trace-lean');
    await client().echo({ value: 'r' }, { headers: { [REQUEST_ID_HEADER]: 'explicit' } });
    expect(seen.at(-1)?.header).toBe('explicit');
  });

  it('leaves streams to the Connect transport', async () => {
    const values: number[] = [];
    for await (const message of client().count({ value: 3 })) values.push(message.value);
    expect(values).toEqual([0, 1, 2]);
  });

  it('answers a non-Connect error page with the code of its HTTP status', async () => {
    const plain = http.createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<h1>maintenance</h1>');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = plain.address() as { port: number };
      const error = fromConnectError(await failureOf(client(`http://127.0.0.1:${port}`).echo({ value: 'x' })));
      expect(error.code).toBe('UNAVAILABLE');
    } finally {
      plain.close();
    }
  });
});
