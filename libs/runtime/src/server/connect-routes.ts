import type { DescMethod, DescMethodBiDiStreaming, DescMethodServerStreaming, DescMethodUnary, DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ConnectRouterOptions } from '@connectrpc/connect';
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import * as protoConnect from '@connectrpc/connect/protocol-connect';
import * as protoGrpc from '@connectrpc/connect/protocol-grpc';
import * as protoGrpcWeb from '@connectrpc/connect/protocol-grpc-web';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fromConnectError, toConnectError } from '../errors/connect-mapping.js';
import { PartqError } from '../errors/partq-error.js';
import {
  CONTENT_TYPE_STREAM_PROTO,
  leanBidiStreamHandler,
  leanServerStreamHandler,
  type AnyBidiStreamImpl,
  type AnyServerStreamImpl,
} from './lean-server-stream-handler.js';
import { CONTENT_TYPE_PROTO, leanUnaryHandler, sendConnectError, type AnyUnaryImpl } from './lean-unary-handler.js';

export interface ConnectRoutesOptions {
  routes: (router: ConnectRouter) => void;
  interceptors: NonNullable<ConnectRouterOptions['interceptors']>;
  readMaxBytes: number;
  shutdownSignal: AbortSignal;
}

type AnyImpl = AnyUnaryImpl | AnyServerStreamImpl | AnyBidiStreamImpl;
/** Methods served by the lean handlers: unary, server-streaming and (over HTTP/2) bidirectional, binary and uncompressed. */
const LEAN_KINDS: ReadonlySet<DescMethod['methodKind']> = new Set(['unary', 'server_streaming', 'bidi_streaming']);

/**
 * Serves Connect services on a Fastify instance (what connect-fastify's plugin does), with one
 * difference: unary calls with a binary body and server and (HTTP/2) bidirectional streams of
 * binary, uncompressed messages — every call partq's roles and npm clients make — are answered by
 * `leanUnaryHandler`, `leanServerStreamHandler` and `leanBidiStreamHandler`; JSON, compressed
 * streams, client streams, gRPC and gRPC-web by Connect's universal handlers. Register it in its own encapsulated context: it replaces the
 * content-type parsers.
 */
export async function connectRoutes(app: FastifyInstance, options: ConnectRoutesOptions): Promise<void> {
  const router = createConnectRouter({ interceptors: options.interceptors, readMaxBytes: options.readMaxBytes, shutdownSignal: options.shutdownSignal });
  const impls = new Map<DescMethod, AnyImpl>();
  options.routes(recordingRouter(router, impls));

  // A unary binary body is read whole (the handler decodes it); other Connect bodies are left on
  // the stream for the universal handler, as connect-fastify does.
  app.addContentTypeParser(CONTENT_TYPE_PROTO, { parseAs: 'buffer', bodyLimit: options.readMaxBytes }, (_request, body, done) => done(null, body));
  app.addContentTypeParser(
    [
      protoConnect.contentTypeUnaryJson,
      protoConnect.contentTypeStreamJson,
      protoGrpcWeb.contentTypeProto,
      protoGrpcWeb.contentTypeJson,
      protoGrpc.contentTypeProto,
      protoGrpc.contentTypeJson,
    ],
    leaveBodyOnStream,
  );
  app.addContentTypeParser(protoGrpc.contentTypeRegExp, leaveBodyOnStream);
  app.addContentTypeParser(protoGrpcWeb.contentTypeRegExp, leaveBodyOnStream);
  app.addContentTypeParser(protoConnect.contentTypeStreamRegExp, leaveBodyOnStream);

  for (const handler of router.handlers) {
    const lean = leanHandlerOf(handler.method, impls.get(handler.method), options);
    app.all(handler.requestPath, async (request: FastifyRequest, reply: FastifyReply) => {
      if (lean && request.method === 'POST' && lean.accepts(request)) return lean.handle(request, reply);
      // Answered on reply.raw, as connect-fastify does.
      await universal(handler, request, reply);
      return undefined;
    });
  }

  // What Fastify refuses before a handler runs (a body over the limit, an unreadable one) is
  // answered as a Connect error, so Connect clients see its code.
  app.setErrorHandler(async (error: FastifyError, _request, reply) => {
    const status = error.statusCode ?? 500;
    const failure =
      status === 413
        ? new PartqError('PAYLOAD_TOO_LARGE', error.message)
        : status < 500
          ? new PartqError('INVALID_ARGUMENT', error.message)
          : new PartqError('INTERNAL', 'internal error');
    return sendConnectError(reply, toConnectError(failure));
  });
}

/** A lean handler, and the requests it takes (the rest go to Connect's universal handler). */
interface LeanRoute {
  accepts(request: FastifyRequest): boolean;
  handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

function leanHandlerOf(method: DescMethod, impl: AnyImpl | undefined, options: ConnectRoutesOptions): LeanRoute | undefined {
  if (impl === undefined) return undefined;
  const { interceptors, shutdownSignal, readMaxBytes } = options;
  if (method.methodKind === 'unary') {
    const handle = leanUnaryHandler({ method: method as DescMethodUnary, impl: impl as AnyUnaryImpl, interceptors, shutdownSignal });
    return { accepts: (request) => request.headers['content-type'] === CONTENT_TYPE_PROTO, handle };
  }
  const identity = (encoding: string | string[] | undefined): boolean => encoding === undefined || encoding === 'identity';
  const binaryStream = (request: FastifyRequest): boolean =>
    request.headers['content-type'] === CONTENT_TYPE_STREAM_PROTO && identity(request.headers['connect-content-encoding']);
  if (method.methodKind === 'server_streaming') {
    const handle = leanServerStreamHandler({ method: method as DescMethodServerStreaming, impl: impl as AnyServerStreamImpl, interceptors, shutdownSignal, readMaxBytes });
    return { accepts: binaryStream, handle };
  }
  if (method.methodKind === 'bidi_streaming') {
    const handle = leanBidiStreamHandler({ method: method as DescMethodBiDiStreaming, impl: impl as AnyBidiStreamImpl, interceptors, shutdownSignal, readMaxBytes });
    return { accepts: (request) => binaryStream(request) && request.raw.httpVersionMajor === 2, handle };
  }
  return undefined;
}

/** Connect's own handling of a request (connect-fastify's route body). */
async function universal(handler: ReturnType<typeof createConnectRouter>['handlers'][number], request: FastifyRequest, reply: FastifyReply): Promise<void> {
  try {
    const response = await handler(universalRequestFromNodeRequest(request.raw, reply.raw, request.body as never, undefined));
    // Headers set by hooks (x-request-id) live on the reply until send(), which this path does not use.
    for (const [key, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(key, value);
    await universalResponseToNodeResponse(response, reply.raw);
  } catch (error) {
    const rpc = `${handler.service.typeName}/${handler.method.name}`;
    // The client went away mid-stream (a watcher, consumer or tail disconnecting; a write to its
    // closed socket fails with EPIPE or ERR_STREAM_DESTROYED): normal, nothing to answer.
    const code = fromConnectError(error).code;
    if (ConnectError.from(error).code === Code.Aborted || reply.raw.destroyed || code === 'UNAVAILABLE' || code === 'CANCELLED') {
      request.log.debug({ err: error, rpc }, 'the client left before the answer was complete');
      return;
    }
    request.log.error({ err: error, rpc }, 'Connect handler failed');
  }
}

function leaveBodyOnStream(_request: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void): void {
  done(null, undefined);
}

/** The router, with every unary and server-streaming implementation noted on the way in (the universal handlers hide them). */
function recordingRouter(router: ConnectRouter, impls: Map<DescMethod, AnyImpl>): ConnectRouter {
  const recording: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service(service: DescService, implementation: Record<string, AnyImpl | undefined>, handlerOptions?: Parameters<ConnectRouter['service']>[2]) {
      for (const method of service.methods) {
        const impl = implementation[method.localName];
        if (LEAN_KINDS.has(method.methodKind) && typeof impl === 'function') impls.set(method, impl.bind(implementation) as AnyImpl);
      }
      router.service(service, implementation as never, handlerOptions);
      return recording;
    },
    rpc(method: DescMethod, impl: AnyImpl, handlerOptions?: Parameters<ConnectRouter['rpc']>[2]) {
      if (LEAN_KINDS.has(method.methodKind)) impls.set(method, impl);
      router.rpc(method as never, impl as never, handlerOptions);
      return recording;
    },
  } as ConnectRouter;
  return recording;
}
