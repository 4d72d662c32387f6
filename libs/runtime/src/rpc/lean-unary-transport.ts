import http from 'node:http';
import https from 'node:https';
import { create, fromBinary, isMessage, toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type Transport, type UnaryResponse } from '@connectrpc/connect';
import { codeFromHttpStatus, errorFromJsonBytes } from '@connectrpc/connect/protocol-connect';
import { currentRequestId, REQUEST_ID_HEADER } from '../context/request-context.js';
import { wireBytesOf } from './wire-bytes.js';

const CONTENT_TYPE_PROTO = 'application/proto';
const TRAILER_PREFIX = 'trailer-';

type HeadersInit = ConstructorParameters<typeof Headers>[0];

/**
 * Unary calls of the Connect protocol (binary, uncompressed, HTTP/1.1) written straight on
 * node:http; streams go to `streams`, a regular Connect transport.
 *
 * Why: connect-node spends ~300 µs of CPU per unary call on the client side beyond what the
 * HTTP exchange itself costs (AbortController chains, a DOMException and a ConnectError made on
 * every successful call, WHATWG Headers, async-iterable bodies) — measured here as ~900 µs per call
 * for both sides with connect-node against ~600 µs with this transport and the same server. Roles
 * make a unary call for every batch they move (Append, GetUpdates, Fetch, Commit), so that cost is
 * paid per batch on every hop. The wire format is the Connect protocol's, unchanged: the servers
 * are still Connect servers, and any Connect client can still call them.
 */
export function createLeanUnaryTransport(baseUrl: string, agent: http.Agent, streams: Transport): Transport {
  const url = new URL(baseUrl);
  const request = url.protocol === 'https:' ? https.request : http.request;
  const basePath = url.pathname.replace(/\/+$/, '');
  const target = { protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, agent };

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
      const headers = requestHeaders(header, body.byteLength, timeoutMs);
      const req = request({ ...target, method: 'POST', path: `${basePath}/${method.parent.typeName}/${method.name}`, headers });

      let settled = false;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const fail = (error: ConnectError): void => {
        finish(() => reject(error));
        req.destroy();
      };
      const onAbort = (): void => fail(ConnectError.from(signal?.reason, Code.Canceled));
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer =
        timeoutMs !== undefined && timeoutMs > 0
          ? setTimeout(() => fail(new ConnectError(`the call took longer than ${timeoutMs} ms`, Code.DeadlineExceeded)), timeoutMs)
          : undefined;

      req.on('error', (error) => {
        // A refused or reset connection: the cause (ECONNREFUSED, ...) is what callers classify.
        finish(() => reject(new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => finish(() => reject(new ConnectError(error.message, Code.Unavailable, undefined, undefined, error))));
        // Settles nothing after 'end'; before it, the peer went away mid-answer.
        res.on('close', () => finish(() => reject(new ConnectError('the connection closed before the answer was complete', Code.Unavailable))));
        res.on('end', () => {
          const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          const { header: responseHeader, trailer } = splitHeaders(res.headers);
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            finish(() => reject(connectErrorOf(status, bytes, responseHeader, trailer)));
            return;
          }
          const contentType = res.headers['content-type'];
          if (contentType !== CONTENT_TYPE_PROTO) {
            finish(() => reject(new ConnectError(`unexpected content-type ${String(contentType)}`, Code.Internal, responseHeader)));
            return;
          }
          try {
            const message = fromBinary(method.output, bytes);
            finish(() => resolve({ stream: false, service: method.parent, method, header: responseHeader, message, trailer }));
          } catch (error) {
            finish(() => reject(ConnectError.from(error, Code.Internal)));
          }
        });
      });
      req.end(body);
    });

  return { unary, stream: (...args) => streams.stream(...args) };
}

function requestHeaders(header: HeadersInit | undefined, contentLength: number, timeoutMs: number | undefined): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {
    'content-type': CONTENT_TYPE_PROTO,
    'connect-protocol-version': '1',
    'content-length': contentLength,
  };
  if (timeoutMs !== undefined && timeoutMs > 0) headers['connect-timeout-ms'] = String(Math.ceil(timeoutMs));
  if (header !== undefined) new Headers(header).forEach((value, key) => (headers[key] = value));
  // Calls made while serving a request carry its id to the next hop (as requestIdClientInterceptor does).
  if (headers[REQUEST_ID_HEADER] === undefined) {
    const requestId = currentRequestId();
    if (requestId !== undefined) headers[REQUEST_ID_HEADER] = requestId;
  }
  return headers;
}

/** Connect puts a unary call's trailers in headers prefixed `trailer-`. */
function splitHeaders(raw: http.IncomingHttpHeaders): { header: Headers; trailer: Headers } {
  const header = new Headers();
  const trailer = new Headers();
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (key.startsWith(TRAILER_PREFIX)) trailer.append(key.slice(TRAILER_PREFIX.length), v);
      else header.append(key, v);
    }
  }
  return { header, trailer };
}

/** The Connect error JSON of a failed call; a body that is not one (a proxy's page) gives the code of its HTTP status. */
function connectErrorOf(status: number, body: Uint8Array, header: Headers, trailer: Headers): ConnectError {
  const fallback = new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status), header);
  try {
    return errorFromJsonBytes(body, mergeHeaders(header, trailer), fallback);
  } catch (error) {
    // errorFromJsonBytes throws `fallback` when the body is not Connect's error JSON.
    return error instanceof ConnectError ? error : fallback;
  }
}

function mergeHeaders(a: Headers, b: Headers): Headers {
  const merged = new Headers(a);
  b.forEach((value, key) => merged.append(key, value));
  return merged;
}
