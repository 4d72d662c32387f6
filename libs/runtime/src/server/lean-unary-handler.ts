import { gunzipSync } from 'node:zlib';
import { fromBinary, toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { invokeUnaryImplementation } from '@connectrpc/connect/protocol';
import { codeToHttpStatus, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { wireBytesOf } from '@partq/client-core';
import { openConnectCall, outgoingHeaders, type ConnectCall } from './connect-call.js';

/** What a Connect unary call with a binary body carries and is answered with. */
export const CONTENT_TYPE_PROTO = 'application/proto';
const CONTENT_TYPE_JSON = 'application/json';

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

  return async (request, reply) => {
    let call: ConnectCall | undefined;
    try {
      call = openConnectCall(method, request, reply, shutdownSignal);
      const input = decodeInput(method, request.raw.headers['content-encoding'], request.body);
      const output = await invokeUnaryImplementation(spec, call.context, input, interceptors);
      const body = wireBytesOf(output) ?? toBinary(method.output, output);
      const headers = outgoingHeaders(call.context.responseHeader, call.context.responseTrailer);
      headers['content-type'] = CONTENT_TYPE_PROTO;
      return reply.code(200).headers(headers).send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    } catch (thrown) {
      const signal = call?.context.signal;
      return sendConnectError(reply, ConnectError.from(signal?.aborted && !(thrown instanceof ConnectError) ? signal.reason : thrown));
    } finally {
      call?.dispose();
    }
  };
}

/** A failed unary call as the Connect protocol answers it: the code's HTTP status, the error as JSON, its metadata as headers. */
export function sendConnectError(reply: FastifyReply, error: ConnectError): FastifyReply {
  const headers = outgoingHeaders(error.metadata);
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



