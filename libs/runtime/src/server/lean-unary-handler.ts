import { gunzipSync } from 'node:zlib';
import { fromBinary, toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextValues, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { invokeUnaryImplementation } from '@connectrpc/connect/protocol';
import { codeToHttpStatus, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { wireBytesOf } from '@partq/client-core';

/** What a Connect unary call with a binary body carries and is answered with. */
export const CONTENT_TYPE_PROTO = 'application/proto';
const CONTENT_TYPE_JSON = 'application/json';
const TRAILER_PREFIX = 'trailer-';
/** Longest timeout a client may ask for (Connect's own limit: 10 digits of milliseconds). */
const MAX_TIMEOUT_MS = 9_999_999_999;

/** A unary implementation as registered on the router (its descriptor gives it its types). */
export type AnyUnaryImpl = (request: MessageShape<DescMessage>, context: HandlerContext) => Promise<MessageInitShape<DescMessage>> | MessageInitShape<DescMessage>;

export interface LeanUnaryOptions {
  method: DescMethodUnary;
  impl: AnyUnaryImpl;
  interceptors: Interceptor[];
  /** Aborts handlers' signals when the server shuts down. */
  shutdownSignal: AbortSignal;
}

/**
 * Serves one unary method of the Connect protocol (binary body) as a plain Fastify handler: decode,
 * run the interceptors and the implementation (connect's own invokeUnaryImplementation), encode.
 *
 * Why not connect-fastify's universal handler: it costs ~300 µs of server CPU per call beyond the
 * HTTP exchange (an AbortController linked to two more, a DOMException when each call ends, async
 * iterables over a one-message body, WHATWG Headers conversions both ways). Every role answers a
 * unary call per batch on every hop (Append, GetUpdates, Fetch, Send), so this is the hot path.
 * The handler signal aborts only when it must (client gone, deadline, shutdown). JSON bodies,
 * streams, gRPC and gRPC-web still go through the universal handler.
 */
export function leanUnaryHandler(options: LeanUnaryOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  const { method, interceptors, shutdownSignal } = options;
  const spec = { kind: 'unary' as const, method, impl: options.impl };
  const service = method.parent;

  return async (request, reply) => {
    const raw = request.raw;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let deadline: number | undefined;
    const onShutdown = (): void => controller.abort(shutdownSignal.reason);
    const onClose = (): void => {
      if (!reply.raw.writableFinished) controller.abort(new ConnectError('the client went away', Code.Canceled));
    };
    try {
      const timeoutMs = parseTimeout(raw.headers['connect-timeout-ms']);
      if (timeoutMs !== undefined) {
        deadline = Date.now() + timeoutMs;
        timer = setTimeout(() => controller.abort(new ConnectError(`the deadline of ${timeoutMs} ms passed`, Code.DeadlineExceeded)), timeoutMs);
      }
      if (shutdownSignal.aborted) throw ConnectError.from(shutdownSignal.reason, Code.Unavailable);
      shutdownSignal.addEventListener('abort', onShutdown, { once: true });
      reply.raw.once('close', onClose);

      const input = decodeInput(method, raw.headers['content-encoding'], request.body);
      const context: HandlerContext = {
        method,
        service,
        signal: controller.signal,
        timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
        requestMethod: 'POST',
        requestHeader: requestHeaders(raw.headers),
        responseHeader: new Headers(),
        responseTrailer: new Headers(),
        protocolName: 'connect',
        values: createContextValues(),
        url: `http://${raw.headers.host ?? 'localhost'}${raw.url ?? ''}`,
      };
      const output = await invokeUnaryImplementation(spec, context, input, interceptors);
      const body = wireBytesOf(output) ?? toBinary(method.output, output);
      const headers = outgoingHeaders(context.responseHeader, context.responseTrailer);
      headers['content-type'] = CONTENT_TYPE_PROTO;
      return reply.code(200).headers(headers).send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    } catch (thrown) {
      return sendConnectError(reply, ConnectError.from(controller.signal.aborted && !(thrown instanceof ConnectError) ? controller.signal.reason : thrown));
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      shutdownSignal.removeEventListener('abort', onShutdown);
      reply.raw.off('close', onClose);
    }
  };
}

/** A failed unary call as the Connect protocol answers it: the code's HTTP status, the error as JSON, its metadata as headers. */
export function sendConnectError(reply: FastifyReply, error: ConnectError): FastifyReply {
  const headers = outgoingHeaders(error.metadata, undefined);
  headers['content-type'] = CONTENT_TYPE_JSON;
  const body = errorToJsonBytes(error, {});
  return reply.code(codeToHttpStatus(error.code)).headers(headers).send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}

function decodeInput(method: DescMethodUnary, encoding: string | string[] | undefined, body: unknown) {
  if (!Buffer.isBuffer(body)) throw new ConnectError('a binary request body is required', Code.InvalidArgument);
  let bytes: Uint8Array = body;
  if (encoding !== undefined && encoding !== 'identity') {
    if (encoding !== 'gzip') throw new ConnectError(`content-encoding ${String(encoding)} is not supported`, Code.Unimplemented);
    try {
      bytes = gunzipSync(body);
    } catch (error) {
      throw new ConnectError('the request body is not valid gzip', Code.InvalidArgument, undefined, undefined, error);
    }
  }
  try {
    return fromBinary(method.input, bytes);
  } catch (error) {
    throw new ConnectError(`the request is not a valid ${method.input.typeName}`, Code.InvalidArgument, undefined, undefined, error);
  }
}

/** connect-timeout-ms: up to 10 digits of milliseconds; anything else is refused, as Connect does. */
function parseTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,10}$/.test(text)) throw new ConnectError(`invalid connect-timeout-ms: ${String(text)}`, Code.InvalidArgument);
  return Math.min(Number(text), MAX_TIMEOUT_MS);
}

function requestHeaders(raw: FastifyRequest['raw']['headers']): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || key.startsWith(':')) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(key, v);
    else headers.append(key, value);
  }
  return headers;
}

/** Response headers, and trailers as `trailer-` headers (how the Connect protocol sends them on unary calls). */
function outgoingHeaders(header: Headers, trailer: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  header.forEach((value, key) => (out[key] = value));
  trailer?.forEach((value, key) => (out[`${TRAILER_PREFIX}${key}`] = value));
  return out;
}
