import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { create, isMessage, toBinary, type DescMessage, type DescMethodBiDiStreaming, type DescMethodUnary, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type Transport, type UnaryResponse } from '@connectrpc/connect';
import type { Http2SessionManager } from '@connectrpc/connect-node';
import { decodeAnswer, type WireDecoders } from './answer-decoding.js';
import { BodyOrder } from './body-order.js';
import { CallMultiplexer } from './call-multiplexer.js';
import { connectErrorOf, requestHeaders, splitHeaders, type HeadersInit, type RawHeaders } from './connect-http.js';
import { http1ServerStream } from './http1-server-stream.js';
import { http2ServerStream } from './http2-server-stream.js';
import { wireBytesOf } from './wire-bytes.js';

const CONTENT_TYPE_PROTO = 'application/proto';
/**
 * Larger requests of a multiplexed method go as calls of their own: their cost is in their bytes,
 * not in the call, and a gateway read a 500 × 1 KiB batch from a stream's frames at ~10 % more CPU
 * than from a call's body (pipelined 1 KiB 42 600 → 38 400 msgs/s in alternated runs). Brokers
 * that read the gateway's Appends of up to ~1 MiB from an AppendStream grew to ~540 MB of resident
 * memory while 1 GiB flowed; with this limit, ~200 MB (docs/performance-log.md, round 24).
 */
const MULTIPLEXED_MAX_BYTES = 64 * 1024;


export interface LeanUnaryTransportOptions {
  baseUrl: string;
  /** HTTP/2: every call is a stream on this manager's session (one connection, kept alive by it). */
  http2?: Http2SessionManager;
  /** HTTP/1.1 (when `http2` is not given): the agent whose keep-alive connections calls use. */
  agent?: http.Agent;
  /** Bidirectional and client streams go here (a regular Connect transport on the same connection); server streams are read by hand. */
  streams: Transport;
  /** Headers every call carries unless it sets them itself (a server passing on its request id). */
  headers?: () => Record<string, string> | undefined;
  /** Hand-written readers of answers (unary and, over HTTP/1.1, streamed), tried before fromBinary(). */
  decoders?: WireDecoders;
  /**
   * Unary methods whose calls go as messages of one stream of a twin method (Send on SendStream,
   * see call-multiplexer.ts) over HTTP/2 (`http2`, or `multiplexOver` when unary calls go over
   * HTTP/1.1), falling back to calls of their own where the server does not serve the twin.
   */
  multiplexed?: readonly MultiplexedMethod[];
  /** The HTTP/2 session multiplexed calls use when other calls go over HTTP/1.1 (`agent`). */
  multiplexOver?: Http2SessionManager;
}

/** A unary method and the bidirectional stream its calls may travel on. */
export interface MultiplexedMethod {
  unary: DescMethodUnary;
  stream: DescMethodBiDiStreaming;
}

/**
 * Unary calls of the Connect protocol (binary, uncompressed) written straight on node:http2 or
 * node:http; server streams too (server-stream.ts), other streams go to `streams`.
 *
 * Why: connect-node spends most of a unary call's client CPU on machinery around the exchange
 * (AbortController chains, a DOMException and a ConnectError made on every successful call, WHATWG
 * Headers, async-iterable bodies): measured here, one call over HTTP/2 cost the client ~400 µs of
 * CPU with connect-node and ~150 µs written this way, and 560 → 310 µs of wall time. A message
 * marked with `withWireBytes` is sent as those bytes. The wire format is the Connect protocol's,
 * unchanged: any Connect server answers these calls.
 */
export function createLeanUnaryTransport(options: LeanUnaryTransportOptions): Transport {
  const url = new URL(options.baseUrl);
  const basePath = url.pathname.replace(/\/+$/, '');
  const send = options.http2 ? http2Exchange(options.http2) : http1Exchange(url, options.agent);
  const pathOf = (method: DescMethodUnary | DescMethodBiDiStreaming): string => `${basePath}/${method.parent.typeName}/${method.name}`;
  const multiplexers = new Map<DescMethodUnary, CallMultiplexer>();
  const multiplexSessions = options.multiplexOver ?? options.http2;
  if (multiplexSessions) {
    for (const { unary, stream } of options.multiplexed ?? []) multiplexers.set(unary, new CallMultiplexer(multiplexSessions, pathOf(stream)));
  }

  const unary: Transport['unary'] = <I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
  ): Promise<UnaryResponse<I, O>> =>
    new Promise<UnaryResponse<I, O>>((resolve, reject) => {
      if (signal?.aborted) {
        reject(ConnectError.from(signal.reason, Code.Canceled));
        return;
      }
      let body: Uint8Array;
      try {
        const message = isMessage(input, method.input) ? input : create(method.input, input);
        body = wireBytesOf(message) ?? toBinary(method.input, message);
      } catch (error) {
        reject(ConnectError.from(error, Code.Internal));
        return;
      }

      let settled = false;
      let cancel: (() => void) | undefined;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const fail = (error: ConnectError): void => {
        finish(() => reject(error));
        cancel?.();
      };
      const onAbort = (): void => fail(ConnectError.from(signal?.reason, Code.Canceled));
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer =
        timeoutMs !== undefined && timeoutMs > 0
          ? setTimeout(() => fail(new ConnectError(`the call took longer than ${timeoutMs} ms`, Code.DeadlineExceeded)), timeoutMs)
          : undefined;

      const decoded = (bytes: Uint8Array, responseHeader: Headers, trailer: Headers): void => {
        try {
          const message = decodeAnswer(method.output, bytes, options.decoders);
          finish(() => resolve({ stream: false, service: method.parent, method, header: responseHeader, message, trailer }));
        } catch (error) {
          finish(() => reject(ConnectError.from(error, Code.Internal)));
        }
      };
      const alone = (): (() => void) => send(pathOf(method), requestHeaders(CONTENT_TYPE_PROTO, header, options.headers?.(), body.byteLength, timeoutMs), body, {
        failed: (error) => finish(() => reject(error)),
        answered: (status, headers, bytes) => {
          const { header: responseHeader, trailer } = splitHeaders(headers);
          if (status !== 200) {
            finish(() => reject(connectErrorOf(status, bytes, responseHeader, trailer)));
            return;
          }
          const contentType = headers['content-type'];
          if (contentType !== CONTENT_TYPE_PROTO) {
            finish(() => reject(new ConnectError(`unexpected content-type ${String(contentType)}`, Code.Internal, responseHeader)));
            return;
          }
          decoded(bytes, responseHeader, trailer);
        },
      });
      const multiplexer = multiplexers.get(method as DescMethodUnary);
      // Headers of a call (its own, or a request id to follow) have no place on a shared stream: such a
      // call goes alone, as does a request over MULTIPLEXED_MAX_BYTES.
      cancel =
        multiplexer?.usable && header === undefined && options.headers?.() === undefined && body.byteLength <= MULTIPLEXED_MAX_BYTES
          ? multiplexer.call(body, {
              answered: (bytes) => decoded(bytes, new Headers(), new Headers()),
              failed: (error) => finish(() => reject(error)),
              refused: () => {
                if (!settled) cancel = alone();
              },
            })
          : alone();
      // Aborted or timed out while the request was being set up: stop it now.
      if (settled) cancel();
    });

  // Server streams are read by hand too (server-stream.ts); the rest go to `streams`.
  const readHow = { baseUrl: url, headers: options.headers, decoders: options.decoders };
  const serverStream = options.http2 ? http2ServerStream({ ...readHow, sessions: options.http2 }) : http1ServerStream({ ...readHow, agent: options.agent });
  const stream: Transport['stream'] = (method, signal, timeoutMs, header, input, contextValues) =>
    method.methodKind === 'server_streaming'
      ? serverStream(method, signal, timeoutMs, header, input)
      : options.streams.stream(method, signal, timeoutMs, header, input, contextValues);
  return { unary, stream };
}

/** What an exchange reports: the whole answer, or why there is none. Called at most once each. */
interface ExchangeEvents {
  answered(status: number, headers: RawHeaders, body: Buffer): void;
  failed(error: ConnectError): void;
}

/** Sends one request; returns how to cancel it. */
type Exchange = (path: string, headers: RawHeaders, body: Uint8Array, events: ExchangeEvents) => () => void;

function http2Exchange(sessions: Http2SessionManager): Exchange {
  const bodies = new BodyOrder();
  return (path, headers, body, events) => {
    const turn = bodies.take();
    let stream: http2.ClientHttp2Stream | undefined;
    let cancelled = false;
    const cancel = (): void => {
      cancelled = true;
      if (stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    sessions.request('POST', path, headers as http2.OutgoingHttpHeaders, {}).then(
      (opened) => {
        stream = opened;
        if (cancelled) {
          turn.skip();
          cancel();
          return;
        }
        let status: number | undefined;
        let responseHeaders: RawHeaders = {};
        let ended = false;
        const chunks: Buffer[] = [];
        opened.on('response', (h) => {
          status = Number(h[':status'] ?? 0);
          responseHeaders = h as RawHeaders;
        });
        opened.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          // Tells the manager the connection is alive, so its keep-alive pings stay quiet.
          sessions.notifyResponseByteRead(opened);
        });
        opened.on('end', () => {
          ended = true;
          // Closed cleanly without an answer: a server going away (GOAWAY, a restart) drops streams it
          // will not serve this way. Nothing was processed, so it is worth a retry.
          if (status === undefined) events.failed(new ConnectError(`the stream closed without an answer (code ${opened.rstCode})`, Code.Unavailable));
          else events.answered(status, responseHeaders, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
        });
        // A reset stream or a session gone away: the cause (ERR_HTTP2_*) is what callers classify.
        opened.on('error', (error) => events.failed(new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
        opened.on('close', () => {
          if (!ended) events.failed(new ConnectError(`the stream closed before the answer was complete (code ${opened.rstCode})`, Code.Unavailable));
        });
        turn.end(opened, body);
      },
      (error: unknown) => {
        turn.skip();
        events.failed(ConnectError.from(error, Code.Unavailable));
      },
    );
    return cancel;
  };
}

function http1Exchange(url: URL, agent: http.Agent | undefined): Exchange {
  const request = url.protocol === 'https:' ? https.request : http.request;
  const target = { protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, agent };
  return (path, headers, body, events) => {
    const req = request({ ...target, method: 'POST', path, headers: headers as http.OutgoingHttpHeaders });
    // A refused or reset connection: the cause (ECONNREFUSED, ...) is what callers classify.
    req.on('error', (error) => events.failed(new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let ended = false;
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => events.failed(new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
      res.on('close', () => {
        if (!ended) events.failed(new ConnectError('the connection closed before the answer was complete', Code.Unavailable));
      });
      res.on('end', () => {
        ended = true;
        events.answered(res.statusCode ?? 0, res.headers, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      });
    });
    req.end(body);
    return () => req.destroy();
  };
}
