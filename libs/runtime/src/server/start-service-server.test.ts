import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import { createClient, type Client, type ServiceImpl } from '@connectrpc/connect';
import { createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { Writable } from 'node:stream';
import { create } from '@bufbuild/protobuf';
import { StringValueSchema } from '@bufbuild/protobuf/wkt';
import { EchoService } from '../../test/echo-service.js';
import { errorOf } from '../../test/error-of.js';
import { PartqError } from '../errors/partq-error.js';
import { wrapServiceImpl } from '../errors/wrap-service.js';
import { createLogger } from '../log/create-logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { sleep } from '../retry.js';
import { closeRpcTransports, createRpcClient } from '../rpc/transport.js';
import { startServiceServer, type ServiceServer } from './start-service-server.js';
import { wireBytesOf, withWireBytes } from '@partq/client-core';

const echoImpl: ServiceImpl<typeof EchoService> = {
  async echo(req) {
    if (req.value === 'missing') throw new PartqError('NOT_FOUND', 'no such thing', { name: req.value });
    if (req.value === 'boom') throw new Error('db password is hunter2');
    if (req.value.startsWith('wire:')) {
      // A hand-encoded answer: the same message as bytes, plus an unknown field (2 = 1) that only
      // these bytes carry, so a test can tell them from a re-encoding.
      const value = `echo:${req.value}`;
      return withWireBytes(create(StringValueSchema, { value }), Uint8Array.from([0x0a, value.length, ...Buffer.from(value), 0x10, 0x01]));
    }
    return { value: `echo:${req.value}` };
  },
  async *count(req) {
    for (let i = 0; i < req.value; i++) {
      if (i === 3) throw new PartqError('NOT_OWNER', 'partition moved', { owner: 7 });
      yield { value: i };
    }
  },
};

/** Collects log lines so the test can check that the server logs through the given pino logger. */
function memoryLog(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

/** The value of the sample of `name` whose labels include `labels` (in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Set(match[2]!.split(','));
    if (Object.entries(labels).every(([k, v]) => present.has(`${k}="${v}"`))) return Number(match[3]);
  }
  return undefined;
}

describe('startServiceServer', () => {
  let server: ServiceServer;
  let ready = true;
  const log = memoryLog();
  const registry = createMetricsRegistry('broker');

  beforeAll(async () => {
    server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ role: 'broker', instanceId: 'b-1', destination: log.stream }),
      registry,
      routes: (router) => router.service(EchoService, wrapServiceImpl(echoImpl)),
      ready: () => ready,
      bodyLimitBytes: 64 * 1024,
      logRequests: true,
      configure: (app) => {
        app.get('/topics/:name', async (request) => {
          throw new PartqError('NOT_FOUND', 'topic not found', { topic: (request.params as { name: string }).name });
        });
        app.get('/crash', async () => {
          throw new Error('stack and secrets');
        });
      },
    });
  });

  afterAll(async () => {
    closeRpcTransports();
    await server.close();
  });

  it('listens on a real port when asked for port 0', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz from the readiness callback', async () => {
    ready = true;
    const up = await fetch(`${server.url}/readyz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ready' });
    ready = false;
    const down = await fetch(`${server.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'not_ready' });
    ready = true;
  });

  it('serves a unary Connect call', async () => {
    const client = createRpcClient(EchoService, server.url);
    const res = await client.echo({ value: 'hi' });
    expect(res.value).toBe('echo:hi');
  });

  it('sends an answer marked with its wire bytes as those bytes, and as JSON from its fields', async () => {
    const marked = await echoImpl.echo!({ value: 'wire:x' } as never, {} as never);
    const bytes = wireBytesOf(marked as object)!;
    const raw = await fetch(`${server.url}/partq.test.EchoService/Echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/proto', 'connect-protocol-version': '1' },
      body: Buffer.from([0x0a, 6, ...Buffer.from('wire:x')]),
    });
    expect(Buffer.from(await raw.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    expect((await createRpcClient(EchoService, server.url).echo({ value: 'wire:x' })).value).toBe('echo:wire:x');
    const json = await fetch(`${server.url}/partq.test.EchoService/Echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'connect-protocol-version': '1' },
      body: JSON.stringify('wire:x'),
    });
    expect(await json.json()).toBe('echo:wire:x');
  });

  it('carries the partq code and details of a failed call to the client', async () => {
    const client = createRpcClient(EchoService, server.url);
    const err = await errorOf(client.echo({ value: 'missing' }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('no such thing');
    expect(err.details).toEqual({ name: 'missing' });
  });

  it('does not leak the text of unexpected errors', async () => {
    const client = createRpcClient(EchoService, server.url);
    const err = await errorOf(client.echo({ value: 'boom' }));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).not.toContain('hunter2');
  });

  it('streams, and delivers an error raised mid-stream after the messages before it', async () => {
    const client = createRpcClient(EchoService, server.url);
    const ok: number[] = [];
    for await (const msg of client.count({ value: 3 })) ok.push(msg.value);
    expect(ok).toEqual([0, 1, 2]);

    const seen: number[] = [];
    const err = await errorOf(
      (async () => {
        for await (const msg of client.count({ value: 10 })) seen.push(msg.value);
      })(),
    );
    expect(seen).toEqual([0, 1, 2]);
    expect(err.code).toBe('NOT_OWNER');
    expect(err.retriable).toBe(true);
    expect(err.details).toEqual({ owner: 7 });
  });

  it('refuses a request body over the limit with PAYLOAD_TOO_LARGE', async () => {
    const client = createRpcClient(EchoService, server.url);
    const err = await errorOf(client.echo({ value: 'x'.repeat(100 * 1024) }));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('maps errors of plain HTTP routes to partq JSON errors', async () => {
    const notFound = await fetch(`${server.url}/topics/orders`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'topic not found', details: { topic: 'orders' } } });

    const crash = await fetch(`${server.url}/crash`);
    expect(crash.status).toBe(500);
    expect(await crash.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  it('exports Prometheus metrics with the role label, process metrics and RPC durations', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^partq_process_cpu_user_seconds_total\{role="broker"\} /m);
    const service = 'partq.test.EchoService';
    expect(sample(text, 'partq_rpc_duration_seconds_count', { role: 'broker', service, method: 'Echo', code: 'OK' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'partq_rpc_duration_seconds_count', { role: 'broker', service, method: 'Echo', code: 'NOT_FOUND' })).toBe(1);
    expect(sample(text, 'partq_rpc_duration_seconds_count', { role: 'broker', service, method: 'Count', code: 'NOT_OWNER' })).toBe(1);
  });

  it('logs through the given logger with role and instance', () => {
    const requestLine = log.lines.find((line) => line.msg === 'incoming request');
    expect(requestLine).toMatchObject({ role: 'broker', instance: 'b-1', level: 'info' });
    expect(log.lines.some((line) => line.msg === 'request failed' && line.level === 'error')).toBe(true);
  });
});

describe('HTTP/2 on the same port', () => {
  let server: ServiceServer;
  const sessions: Http2SessionManager[] = [];

  beforeAll(async () => {
    server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ role: 'gateway', instanceId: 'g-h2', level: 'silent' }),
      registry: createMetricsRegistry('gateway'),
      routes: (router) => router.service(EchoService, wrapServiceImpl(echoImpl)),
    });
  });

  afterAll(async () => {
    for (const session of sessions) session.abort();
    await server.close();
  });

  function h2Client(): Client<typeof EchoService> {
    const sessionManager = new Http2SessionManager(server.url);
    sessions.push(sessionManager);
    return createClient(EchoService, createConnectTransport({ baseUrl: server.url, httpVersion: '2', useBinaryFormat: true, sessionManager }));
  }

  it('serves Connect unary and streaming calls over cleartext HTTP/2, many on one connection', async () => {
    const client = h2Client();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => client.echo({ value: `m${i}` })));
    expect(answers.map((a) => a.value)).toEqual(Array.from({ length: 50 }, (_, i) => `echo:m${i}`));
    const counted: number[] = [];
    const err = await errorOf(
      (async () => {
        for await (const msg of client.count({ value: 5 })) counted.push(msg.value);
      })(),
    );
    expect(counted).toEqual([0, 1, 2]);
    expect(err.code).toBe('NOT_OWNER');
    expect(sessions[0]!.state()).toBe('open');
  });

  it('carries typed errors and a large body over HTTP/2', async () => {
    const client = h2Client();
    expect((await errorOf(client.echo({ value: 'missing' }))).code).toBe('NOT_FOUND');
    const big = 'x'.repeat(3 * 1024 * 1024);
    await expect(client.echo({ value: big })).resolves.toMatchObject({ value: `echo:${big}` });
  });

  it('answers plain routes over HTTP/2 and HTTP/1.1 alike', async () => {
    const session = http2.connect(server.url);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':method': 'GET', ':path': '/healthz' });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      expect(JSON.parse(body)).toEqual({ status: 'ok' });
    } finally {
      session.close();
    }
    const res = await fetch(`${server.url}/healthz`);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('closes promptly with an idle HTTP/2 connection open', async () => {
    const own = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ role: 'gateway', instanceId: 'g-h2c', level: 'silent' }),
      registry: createMetricsRegistry('gateway'),
      routes: (router) => router.service(EchoService, wrapServiceImpl(echoImpl)),
    });
    const sessionManager = new Http2SessionManager(own.url);
    const client = createClient(EchoService, createConnectTransport({ baseUrl: own.url, httpVersion: '2', useBinaryFormat: true, sessionManager }));
    await client.echo({ value: 'a' });
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(2000);
    sessionManager.abort();
  });
});

describe('a client process that dies', () => {
  /**
   * A process that opens a Count stream over cleartext HTTP/2, reads its first message and exits
   * without a GOAWAY: its kernel closes the connection with a FIN, as when a client crashes.
   */
  const DYING_CLIENT = `
    const http2 = require('node:http2');
    const session = http2.connect(process.argv[1]);
    const stream = session.request({ ':method': 'POST', ':path': '/partq.test.EchoService/Count', 'content-type': 'application/connect+proto' });
    stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, 5])); // one enveloped Int32Value { value: 5 }
    stream.once('data', () => process.exit(0));
  `;

  /** The same, but it dies while its request body is still open (as a producer's SendStream is). */
  const DYING_MID_REQUEST = `
    const http2 = require('node:http2');
    const session = http2.connect(process.argv[1]);
    const stream = session.request({ ':method': 'POST', ':path': '/partq.test.EchoService/Echo', 'content-type': 'application/proto' });
    stream.write(Buffer.from([0x0a, 0x01]), () => setTimeout(() => process.exit(0), 100)); // half a StringValue, never ended
  `;

  /**
   * A server whose Count answers one message, then waits for one it never gets (as a consume stream
   * does on a quiet topic); `ended()` says whether such a call has ended since: its signal aborted, or
   * its generator told to return (which skips the rest of its body, hence the finally block).
   */
  async function serverWithWaitingCount(instanceId: string, http2PingIntervalMs?: number): Promise<{ server: ServiceServer; ended: () => boolean }> {
    let ended = false;
    const server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ role: 'gateway', instanceId, level: 'silent' }),
      registry: createMetricsRegistry('gateway'),
      http2PingIntervalMs,
      routes: (router) =>
        router.service(
          EchoService,
          wrapServiceImpl({
            ...echoImpl,
            async *count(_req, context) {
              try {
                yield { value: 0 };
                if (!context.signal.aborted) await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
              } finally {
                ended = true;
              }
            },
          }),
        ),
    });
    return { server, ended: () => ended };
  }

  /** Waits up to 5 s for `ended()`, then expects it, and that the server closes at once. */
  async function expectEndedAndPromptClose(server: ServiceServer, ended: () => boolean, cleanUp = (): void => undefined): Promise<void> {
    try {
      for (let waited = 0; !ended() && waited < 5000; waited += 50) await sleep(50);
      expect(ended()).toBe(true);
    } finally {
      cleanUp();
      const started = Date.now();
      await server.close();
      expect(Date.now() - started).toBeLessThan(2000);
    }
  }

  it('has a request it left open dropped, so the server stops at once', async () => {
    const { server } = await serverWithWaitingCount('g-dying-request');
    const child = spawn(process.execPath, ['-e', DYING_MID_REQUEST, server.url], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    await sleep(200);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(2000);
  }, 20_000);

  it('has its HTTP/2 connection closed and its streams ended, and the server then stops at once', async () => {
    const { server, ended } = await serverWithWaitingCount('g-dying');
    const child = spawn(process.execPath, ['-e', DYING_CLIENT, server.url], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    await expectEndedAndPromptClose(server, ended);
  }, 20_000);

  it('is found by its unanswered ping when it stops without a word (a host that vanished), and its calls end', async () => {
    const { server, ended } = await serverWithWaitingCount('g-vanished', 200);
    // Stopped, not dead: its kernel still holds the connection and acknowledges what arrives, but
    // nothing in it answers an HTTP/2 PING, as with a host cut off the network.
    const child = spawn(process.execPath, ['-e', DYING_CLIENT.replace('process.exit(0)', "process.kill(process.pid, 'SIGSTOP')"), server.url], { stdio: 'ignore' });
    await expectEndedAndPromptClose(server, ended, () => child.kill('SIGKILL'));
  }, 20_000);
});

describe('ServiceServer.close', () => {
  it('stops listening, is idempotent, and callers then see UNAVAILABLE', async () => {
    const server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ role: 'replica', instanceId: 'r-1', level: 'silent' }),
      registry: createMetricsRegistry('replica'),
      routes: (router) => router.service(EchoService, wrapServiceImpl(echoImpl)),
    });
    const client = createRpcClient(EchoService, server.url);
    await expect(client.echo({ value: 'a' })).resolves.toMatchObject({ value: 'echo:a' });

    await Promise.all([server.close(), server.close()]);
    const err = await errorOf(client.echo({ value: 'b' }));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.retriable).toBe(true);
    closeRpcTransports(server.url);
  });

  it('aborts a long stream after the grace period, says so in its log, and tells its client to go elsewhere', async () => {
    let started!: () => void;
    const streaming = new Promise<void>((resolve) => (started = resolve));
    const endless: ServiceImpl<typeof EchoService> = {
      ...echoImpl,
      async *count(_req, ctx) {
        for (let i = 0; ; i++) {
          yield { value: i };
          started();
          await sleep(10, ctx.signal);
        }
      },
    };
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ role: 'replica', instanceId: 'r-2', level: 'warn', destination }),
      registry: createMetricsRegistry('replica'),
      routes: (router) => router.service(EchoService, wrapServiceImpl(endless)),
      shutdownTimeoutMs: 50,
    });
    const client = createRpcClient(EchoService, server.url);
    const received: number[] = [];
    const outcome = errorOf(
      (async () => {
        for await (const msg of client.count({ value: 0 })) received.push(msg.value);
      })(),
    );
    await streaming;
    await server.close();
    const err = await outcome;
    expect(received.length).toBeGreaterThan(0);
    expect(err.code).toBe('UNAVAILABLE');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain(
      'server: calls still running at the shutdown timeout; aborting them',
    );
    closeRpcTransports(server.url);
  });

  it('fails to start on a port in use, leaving nothing behind', async () => {
    const first = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ role: 'broker', instanceId: 'b-3', level: 'silent' }),
      registry: createMetricsRegistry('broker'),
    });
    try {
      await expect(
        startServiceServer({
          host: '127.0.0.1',
          port: first.port,
          logger: createLogger({ role: 'broker', instanceId: 'b-4', level: 'silent' }),
          registry: createMetricsRegistry('broker'),
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });

  it('reports not ready when the readiness check throws', async () => {
    const server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ role: 'gateway', instanceId: 'g-1', level: 'silent' }),
      registry: createMetricsRegistry('gateway'),
      ready: async () => {
        throw new Error('db down');
      },
    });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    } finally {
      await server.close();
    }
  });
});
