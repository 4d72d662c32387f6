import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { fastify, LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { toConnectError } from '../errors/connect-mapping.js';
import { PartqError } from '../errors/partq-error.js';
import { rpcDurationHistogram } from '../metrics/rpc-duration.js';
import { rpcMetricsInterceptor } from '../metrics/rpc-metrics-interceptor.js';
import { createCleartextHttp2Server, type CleartextHttp2Server } from './cleartext-http2-server.js';
import { connectRoutes } from './connect-routes.js';
import { partqHttpErrorHandler } from './http-error-handler.js';
import { enterRequestId, givenRequestId, REQUEST_ID_HEADER, requestIdFrom, requestIdServerInterceptor } from '../context/request-context.js';

/** Internal RPCs carry whole batches of messages; 64 MiB leaves room for many 1 MiB messages. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** What calls still running at the end of the grace period fail with: retriable, the client goes elsewhere. */
const SHUTTING_DOWN = toConnectError(new PartqError('UNAVAILABLE', 'server is shutting down'));

export interface ServiceServerOptions {
  host: string;
  /** 0 picks a free port; `url` and `port` report the real one. */
  port: number;
  logger: Logger;
  registry: Registry;
  /** Connect services, served with the binary and JSON Connect, gRPC and gRPC-web protocols. */
  routes?: (router: ConnectRouter) => void;
  /** Readiness for GET /readyz: false or a throw answer 503. Ready when omitted. */
  ready?: () => Promise<boolean> | boolean;
  /** Adds plain HTTP routes, hooks or plugins (the gateway's REST API) before the server listens. */
  configure?: (app: FastifyInstance) => Promise<void> | void;
  /** Largest request body, for Connect messages and plain routes alike. Default 64 MiB. */
  bodyLimitBytes?: number;
  /** Connect server interceptors, run after the built-in one that records `partq_rpc_duration_seconds`. */
  interceptors?: Interceptor[];
  /** Log a line per request (off by default: RPCs are many and /metrics is scraped often). */
  logRequests?: boolean;
  /**
   * On close, how long in-flight calls (long server streams especially) may run before their
   * signal is aborted and their connections are cut. Default 10 s.
   */
  shutdownTimeoutMs?: number;
  /** How often each HTTP/2 connection is pinged to find peers that vanished (see createCleartextHttp2Server). Default 30 s. */
  http2PingIntervalMs?: number;
}

export interface ServiceServer {
  app: FastifyInstance;
  /** Base URL to reach the server, e.g. http://127.0.0.1:41234 (loopback when bound to every interface). */
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (see `shutdownTimeoutMs`), then closes. Idempotent. */
  close(): Promise<void>;
}

/**
 * The HTTP server every partq role runs (HTTP/1.1 and cleartext HTTP/2 on one port): Connect
 * routes plus GET /healthz (the process is up),
 * GET /readyz (it can serve: `ready()`), and GET /metrics (Prometheus text from `registry`).
 */
export async function startServiceServer(options: ServiceServerOptions): Promise<ServiceServer> {
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;

  let servers: CleartextHttp2Server | undefined;
  // Typed as the default instance: plugins (fastifyConnectPlugin among them) are declared against it,
  // and a pino Logger is a FastifyBaseLogger at run time.
  const app = fastify({
    // HTTP/1.1 and cleartext HTTP/2 on the same port (see createCleartextHttp2Server).
    serverFactory: (handler) => {
      servers = createCleartextHttp2Server(handler, { pingIntervalMs: options.http2PingIntervalMs });
      return servers.server;
    },
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: !options.logRequests, requestIdLogLabel: 'requestId' }),
    bodyLimit,
    // A field a route's schema does not name is an error (`additionalProperties: false`), not
    // dropped without a word, which is what Fastify's Ajv does by default.
    ajv: { customOptions: { removeAdditional: false } },
    // request.log lines (errors among them) name the id echoed in the answer.
    genReqId: (request) => requestIdFrom(request.headers[REQUEST_ID_HEADER]),
    // Idle keep-alive sockets would otherwise hold close() open until they time out.
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;
  app.setErrorHandler(partqHttpErrorHandler);
  // HTTP/2 connections are not keep-alive sockets Fastify knows how to close: send them GOAWAY.
  app.addHook('preClose', async () => servers?.closeHttp2Sessions());
  // Every answer carries the request's id (the caller's x-request-id, or a new one). Only a caller's id
  // is followed into this role's log lines and onward calls (see request-context.ts for why).
  // (A callback hook: an async one costs a promise per request.)
  app.addHook('onRequest', (request, reply, done) => {
    enterRequestId(givenRequestId(request.headers[REQUEST_ID_HEADER]) === undefined ? undefined : request.id);
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  // Aborted on close after the grace period; Connect handlers see it as their context's signal.
  const shutdown = new AbortController();
  // Every in-flight Connect call listens on this one signal; many at once is normal, not a leak.
  setMaxListeners(0, shutdown.signal);

  app.get('/healthz', { schema: { response: { 200: statusAnswer('ok') } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: statusAnswer('ready'), 503: statusAnswer('not_ready') } } }, async (_request, reply) => {
    const ready = await isReady(options.ready, app);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready' });
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await options.registry.metrics();
    return reply.header('content-type', options.registry.contentType).send(text);
  });

  let port: number;
  try {
    if (options.routes) {
      await app.register(connectRoutes, {
        routes: options.routes,
        readMaxBytes: bodyLimit,
        interceptors: [
          requestIdServerInterceptor,
          rpcMetricsInterceptor(rpcDurationHistogram(options.registry)),
          ...(options.interceptors ?? []),
        ],
        shutdownSignal: shutdown.signal,
      });
    }
    if (options.configure) await options.configure(app);
    await app.listen({ host: options.host, port: options.port });
    port = (app.server.address() as AddressInfo).port;
  } catch (err) {
    // A port in use or a failing `configure` must not leave a half-started server behind.
    await app.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Said in the log: a stop that waits out its timeout is otherwise silent about why it was slow.
      const abort = setTimeout(() => {
        options.logger.warn({ shutdownTimeoutMs }, 'server: calls still running at the shutdown timeout; aborting them');
        shutdown.abort(SHUTTING_DOWN);
      }, shutdownTimeoutMs);
      // Backstop for calls that ignore their abort signal: cut their connections a little later.
      const cut = setTimeout(() => {
        options.logger.warn('server: calls ignored their abort; cutting their connections');
        app.server.closeAllConnections();
        servers?.destroyHttp2Sessions();
      }, shutdownTimeoutMs + 1000);
      abort.unref();
      cut.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(abort);
        clearTimeout(cut);
      }
    })();
    return closing;
  };

  return { app, url: `http://${dialableHost(options.host)}:${port}`, port, close };
}

async function isReady(ready: ServiceServerOptions['ready'], app: FastifyInstance): Promise<boolean> {
  if (!ready) return true;
  try {
    return (await ready()) === true;
  } catch (err) {
    app.log.warn({ err }, 'readiness check failed');
    return false;
  }
}

/** The response schema of a probe answer: `{"status": "<status>"}`. */
function statusAnswer(status: string) {
  return { type: 'object', required: ['status'], properties: { status: { type: 'string', const: status } } } as const;
}

/** A host a client can dial: loopback for the wildcard addresses, brackets for IPv6. */
function dialableHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
