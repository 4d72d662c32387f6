import { connect, type Socket } from 'node:net';
import { BenchError } from './bench-error.js';
import { LatencyRecorder } from './latency-recorder.js';

export interface HttpLoadOptions {
  /** Base URL of the server, http only (e.g. http://127.0.0.1:8080). */
  url: string;
  path: string;
  /** JSON body of every request. */
  body: Buffer;
  /** Keep-alive connections, each with one request at a time (no pipelining). */
  connections: number;
  durationMs: number;
  /** Whether an answer counts as a success; default: any 2xx status. */
  accept?: (status: number, body: Buffer) => boolean;
}

export interface HttpLoadResult {
  /** Requests answered with success. */
  ok: number;
  /** Other answers and broken connections. */
  failures: number;
  /** From the first request to the last answer. */
  seconds: number;
  latency: LatencyRecorder;
  firstFailure?: string;
}

interface ParsedResponse {
  status: number;
  body: Buffer;
  close: boolean;
  /** Bytes of the buffer this response used. */
  consumed: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * A minimal HTTP/1.1 load generator over raw keep-alive sockets: `connections` clients, each
 * sending the same POST again as soon as the previous answer is complete, for `durationMs`.
 * It costs the generating process far less CPU per request than http.request or fetch, so on a
 * small machine the server, not the generator, sets the pace; partq's gateway and a bare Fastify
 * route are measured with this same generator to compare them.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const target = new URL(options.url);
  if (target.protocol !== 'http:') throw new BenchError('HTTP_LOAD_FAILED', `the load generator speaks plain http only, not ${target.protocol}`);
  const port = Number(target.port || 80);
  const host = target.hostname;
  const request = Buffer.concat([
    Buffer.from(
      `POST ${options.path} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${options.body.byteLength}\r\nConnection: keep-alive\r\n\r\n`,
    ),
    options.body,
  ]);
  const accept = options.accept ?? ((status: number) => status >= 200 && status < 300);
  const result: HttpLoadResult = { ok: 0, failures: 0, seconds: 0, latency: new LatencyRecorder() };
  const started = performance.now();
  const deadline = started + options.durationMs;
  let lastAnswer = started;

  const fail = (reason: string): void => {
    result.failures++;
    result.firstFailure ??= reason;
  };

  const runConnection = (): Promise<void> =>
    new Promise<void>((resolve) => {
      let socket: Socket;
      let pending: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let inFlight = false;
      let done = false;

      const finish = (): void => {
        if (done) return;
        done = true;
        socket.destroy();
        resolve();
      };
      const sendNext = (): void => {
        if (performance.now() >= deadline) return finish();
        sentAt = performance.now();
        inFlight = true;
        socket.write(request);
      };
      const open = (): void => {
        pending = Buffer.alloc(0);
        socket = connect({ host, port, noDelay: true });
        socket.on('connect', sendNext);
        socket.on('data', (chunk: Buffer) => {
          pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
          for (;;) {
            const response = parseResponse(pending);
            if (!response) return;
            pending = pending.subarray(response.consumed);
            const now = performance.now();
            inFlight = false;
            lastAnswer = now;
            if (accept(response.status, response.body)) {
              result.ok++;
              result.latency.record(now - sentAt);
            } else {
              fail(`HTTP ${response.status}: ${response.body.subarray(0, 200).toString()}`);
            }
            if (response.close) {
              socket.removeAllListeners();
              socket.destroy();
              if (performance.now() >= deadline) return finish();
              return open();
            }
            sendNext();
          }
        });
        let socketError: string | undefined;
        socket.on('error', (error) => {
          socketError = error.message;
        });
        socket.on('close', () => {
          if (done) return;
          // A refused connection counts too, or a dead server would look like an idle one.
          if (inFlight || socketError !== undefined) fail(socketError ?? 'connection closed with a request in flight');
          inFlight = false;
          if (performance.now() >= deadline) return finish();
          // Reconnect after a short pause rather than spinning on a refused port.
          setTimeout(open, 50);
        });
      };
      open();
    });

  await Promise.all(Array.from({ length: options.connections }, runConnection));
  result.seconds = Math.max(0.001, (lastAnswer - started) / 1000);
  return result;
}

/** One complete response at the start of `data`, or undefined while more bytes are needed. */
export function parseResponse(data: Buffer): ParsedResponse | undefined {
  const headerEnd = data.indexOf(HEADER_END);
  if (headerEnd < 0) return undefined;
  const head = data.subarray(0, headerEnd).toString('latin1');
  const status = Number(head.slice(9, 12));
  const lower = head.toLowerCase();
  const close = /\r\nconnection:\s*close/.test(lower);
  const bodyStart = headerEnd + HEADER_END.length;
  const lengthMatch = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  if (lengthMatch) {
    const end = bodyStart + Number(lengthMatch[1]);
    if (data.length < end) return undefined;
    return { status, body: data.subarray(bodyStart, end), close, consumed: end };
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(lower)) {
    const parts: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = data.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
      const chunkStart = lineEnd + 2;
      if (data.length < chunkStart + size + 2) return undefined;
      if (size === 0) return { status, body: Buffer.concat(parts), close, consumed: chunkStart + 2 };
      parts.push(data.subarray(chunkStart, chunkStart + size));
      at = chunkStart + size + 2;
    }
  }
  // No length and not chunked: only a body-less answer (204, 304) can be complete here.
  return { status, body: Buffer.alloc(0), close, consumed: bodyStart };
}
