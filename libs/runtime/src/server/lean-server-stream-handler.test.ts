import { create } from '@bufbuild/protobuf';
import { Int32ValueSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { compressionGzip, createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { withWireBytes } from '@partq/client-core';
import { EchoService } from '../../test/echo-service.js';
import { errorOf } from '../../test/error-of.js';
import { fromConnectError } from '../errors/connect-mapping.js';
import { PartqError } from '../errors/partq-error.js';
import { wrapServiceImpl } from '../errors/wrap-service.js';
import { createLogger } from '../log/create-logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { sleep } from '../retry.js';
import { closeRpcTransports, createRpcClient } from '../rpc/transport.js';
import { startServiceServer, type ServiceServer } from './start-service-server.js';

// Server streams of binary messages are answered by leanServerStreamHandler, not Connect's universal
// handler: these check what a Connect client must still see (headers, trailers, errors, deadlines,
// cancellation, backpressure) against real connect-node clients and raw HTTP.

type CountImpl = (value: number, context: HandlerContext) => AsyncIterable<{ value: number }>;

/** A 512 KiB unknown field (2): big messages on the wire that still decode as Int32Value. */
const BIG_FIELD = Buffer.concat([Buffer.from([0x12, 0x80, 0x80, 0x20]), Buffer.alloc(512 * 1024, 7)]);

let count: CountImpl;
let server: ServiceServer;
const registry = createMetricsRegistry('broker');
const sessions: Http2SessionManager[] = [];

beforeAll(async () => {
  const impl: ServiceImpl<typeof EchoService> = {
    echo: (request) => request,
    count: (request, context) => count(request.value, context),
  };
  server = await startServiceServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ role: 'broker', instanceId: 'b-lean', level: 'silent' }),
    registry,
    routes: (router) => router.service(EchoService, wrapServiceImpl(impl)),
  });
});

afterAll(async () => {
  for (const session of sessions) session.abort();
  closeRpcTransports();
  await server.close();
});

function h2Client() {
  const sessionManager = new Http2SessionManager(server.url);
  sessions.push(sessionManager);
  return createClient(EchoService, createConnectTransport({ baseUrl: server.url, httpVersion: '2', useBinaryFormat: true, sessionManager }));
}

async function drain(iterable: AsyncIterable<{ value: number }>): Promise<number[]> {
  const values: number[] = [];
  for await (const message of iterable) values.push(message.value);
  return values;
}

/** A Connect stream request or answer, cut into its envelopes. */
function envelopes(bytes: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at + 1);
    out.push({ flags: bytes[at]!, data: bytes.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

async function rawCall(body: Buffer): Promise<{ status: number; contentType: string | null; envelopes: { flags: number; data: Buffer }[] }> {
  const res = await fetch(`${server.url}/partq.test.EchoService/Count`, { method: 'POST', headers: { 'content-type': 'application/connect+proto' }, body });
  return { status: res.status, contentType: res.headers.get('content-type'), envelopes: envelopes(Buffer.from(await res.arrayBuffer())) };
}

it('streams over HTTP/1.1 and HTTP/2, with the headers set before the first message and the trailers set by the end', async () => {
  count = async function* (value, context) {
    context.responseHeader.set('x-test-header', 'early');
    for (let i = 0; i < value; i++) yield { value: i };
    context.responseTrailer.set('x-test-trailer', 'late');
  };
  for (const client of [createRpcClient(EchoService, server.url), h2Client()]) {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const values = await drain(client.count({ value: 4 }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) }));
    expect(values).toEqual([0, 1, 2, 3]);
    expect(header?.get('x-test-header')).toBe('early');
    expect(header?.get('x-request-id')).toBeTruthy();
    expect(trailer?.get('x-test-trailer')).toBe('late');
  }
});

it('sends a message marked with its wire bytes as those bytes, and ends with an empty end-of-stream message', async () => {
  const marked = Uint8Array.from([0x08, 0x05, 0x10, 0x01]); // value 5, plus an unknown field only these bytes carry
  count = async function* () {
    yield withWireBytes(create(Int32ValueSchema, { value: 5 }), marked);
  };
  const answer = await rawCall(Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]));
  expect(answer.status).toBe(200);
  expect(answer.contentType).toBe('application/connect+proto');
  expect(answer.envelopes).toHaveLength(2);
  expect(answer.envelopes[0]!.flags).toBe(0);
  expect(Buffer.from(answer.envelopes[0]!.data).equals(Buffer.from(marked))).toBe(true);
  expect(answer.envelopes[1]!.flags).toBe(2);
  expect(JSON.parse(answer.envelopes[1]!.data.toString())).toEqual({});
});

it('ends with the error, code and details when the implementation fails before its first message', async () => {
  count = async function* () {
    throw new PartqError('NOT_FOUND', 'no such partition', { partition: 9 });
  };
  const err = await errorOf(drain(createRpcClient(EchoService, server.url).count({ value: 1 })));
  expect(err.code).toBe('NOT_FOUND');
  expect(err.message).toBe('no such partition');
  expect(err.details).toEqual({ partition: 9 });
});

it('does not leak the text of unexpected errors', async () => {
  count = async function* () {
    yield { value: 0 };
    throw new Error('db password is hunter2');
  };
  const err = await errorOf(drain(h2Client().count({ value: 1 })));
  expect(err.code).toBe('INTERNAL');
  expect(err.message).not.toContain('hunter2');
});

it('stops the implementation when the client goes away, and records the call as CANCELLED', async () => {
  let stopped!: (reason: unknown) => void;
  const implementationStopped = new Promise<unknown>((resolve) => (stopped = resolve));
  count = async function* (_value, context) {
    try {
      for (let i = 0; ; i++) {
        yield { value: i };
        await sleep(5, context.signal);
      }
    } finally {
      stopped(context.signal.reason);
    }
  };
  const controller = new AbortController();
  const received: number[] = [];
  await errorOf(
    (async () => {
      for await (const message of createRpcClient(EchoService, server.url).count({ value: 0 }, { signal: controller.signal })) {
        received.push(message.value);
        if (received.length === 3) controller.abort();
      }
    })(),
  );
  expect(fromConnectError(await implementationStopped).code).toBe('CANCELLED');
  // Recorded as the interceptor's wrapper of the stream finishes, just after the implementation.
  const cancelledCalls = async (): Promise<number> => {
    const line = (await registry.metrics())
      .split('\n')
      .find((l) => l.startsWith('partq_rpc_duration_seconds_count{') && l.includes('method="Count"') && l.includes('code="CANCELLED"'));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };
  for (let tries = 0; tries < 100 && (await cancelledCalls()) === 0; tries++) await sleep(10);
  expect(await cancelledCalls()).toBe(1);
});

it('aborts the implementation at the deadline the client gave', async () => {
  let stopped!: (reason: unknown) => void;
  const implementationStopped = new Promise<unknown>((resolve) => (stopped = resolve));
  count = async function* (_value, context) {
    try {
      yield { value: 0 };
      await sleep(60_000, context.signal);
    } finally {
      stopped(context.signal.reason);
    }
  };
  // Raw HTTP, so the deadline is enforced by the server alone (a Connect client would also stop itself).
  const body = Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]);
  const res = await fetch(`${server.url}/partq.test.EchoService/Count`, {
    method: 'POST',
    headers: { 'content-type': 'application/connect+proto', 'connect-timeout-ms': '100' },
    body,
  });
  const answer = envelopes(Buffer.from(await res.arrayBuffer()));
  expect(answer.map((e) => e.flags)).toEqual([0, 2]);
  expect(JSON.parse(answer[1]!.data.toString()).error.code).toBe('deadline_exceeded');
  expect(fromConnectError(await implementationStopped).code).toBe('DEADLINE_EXCEEDED');
});

it('waits for a slow reader instead of buffering what the implementation yields', async () => {
  const total = 120;
  let yielded = 0;
  count = async function* () {
    for (let i = 0; i < total; i++) {
      yielded++;
      yield withWireBytes(create(Int32ValueSchema, { value: i }), Buffer.concat([Buffer.from([0x08, i]), BIG_FIELD]));
    }
  };
  const received: number[] = [];
  for await (const message of createRpcClient(EchoService, server.url).count({ value: 0 })) {
    received.push(message.value);
    // 60 MiB in all: without backpressure every message would be yielded while the reader sleeps.
    if (received.length === 2) {
      await sleep(300);
      expect(yielded).toBeLessThan(total / 2);
    }
  }
  expect(received).toEqual(Array.from({ length: total }, (_, i) => i));
});

it('answers a request that is not one enveloped message with INVALID_ARGUMENT, without running the implementation', async () => {
  let ran = false;
  count = async function* () {
    ran = true;
    yield { value: 1 };
  };
  for (const body of [Buffer.from([1, 2, 3]), Buffer.from([0, 0, 0, 0, 9, 0x08]), Buffer.from([2, 0, 0, 0, 2, 0x7b, 0x7d])]) {
    const answer = await rawCall(body);
    expect(answer.status).toBe(200);
    expect(answer.envelopes).toHaveLength(1);
    expect(answer.envelopes[0]!.flags).toBe(2);
    expect(JSON.parse(answer.envelopes[0]!.data.toString()).error.code).toBe('invalid_argument');
  }
  expect(ran).toBe(false);
});

it("leaves other encodings to Connect's own handler: JSON streams are still served, compressed ones still refused", async () => {
  count = async function* (value) {
    for (let i = 0; i < value; i++) yield { value: i * 10 };
  };
  const json = createClient(EchoService, createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', useBinaryFormat: false }));
  expect(await drain(json.count({ value: 3 }))).toEqual([0, 10, 20]);
  // These servers accept no request compression; Connect's handler says so (the lean one would not know the encoding).
  const gzip = createClient(
    EchoService,
    createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', useBinaryFormat: true, sendCompression: compressionGzip, compressMinBytes: 0 }),
  );
  const refusal = await drain(gzip.count({ value: 3 })).then(
    () => undefined,
    (error: unknown) => ConnectError.from(error),
  );
  expect(refusal?.code).toBe(Code.Unimplemented);
  expect(refusal?.rawMessage).toContain('compression');
});
