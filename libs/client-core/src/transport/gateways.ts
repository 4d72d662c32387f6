import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import type { ClientErrors } from '../errors/client-failure.js';
import { CLIENT_WIRE_DECODERS } from './client-wire-decoders.js';
import { keepAliveAgent } from './keep-alive-agent.js';
import { createLeanUnaryTransport, type MultiplexedMethod } from './lean-unary-transport.js';

export type HttpVersion = '1.1' | '2';

/**
 * HTTP/2 by default: every call of a client shares one connection per gateway (the gateway serves
 * cleartext HTTP/2 and HTTP/1.1 on the same port). '1.1' remains for proxies that only speak it.
 */
export const DEFAULT_HTTP_VERSION: HttpVersion = '2';

/** One gateway as a call sees it: which one (to fail over from it) and a client bound to it. */
export interface Gateway<S extends DescService> {
  readonly index: number;
  readonly url: string;
  readonly client: Client<S>;
}

interface Connection<S extends DescService> extends Gateway<S> {
  close(): void;
}

/**
 * The gateways a client may talk to, one of them current. Each gateway gets one Connect transport
 * (binary protobuf, one HTTP/2 session or keep-alive connection pool; unary calls and server
 * streams written on node:http2 / node:http, see lean-unary-transport.ts; deliveries read by
 * hand, see client-wire-decoders.ts), made when first needed and reused by every call. A call that finds the current gateway unreachable moves everyone to the next.
 * Answers come uncompressed (no Accept-Encoding): batches of small messages gzip poorly for the CPU
 * it costs on both ends, and payloads that compress well are better compressed by the application.
 */
export class Gateways<S extends DescService, E extends Error = Error> {
  private readonly urls: readonly string[];
  private readonly connections = new Map<number, Connection<S>>();
  private active = 0;
  private closed = false;

  /** `errors` builds what the client throws for a bad URL list (INVALID_ARGUMENT) or a closed client (CLOSED). */
  constructor(
    private readonly service: S,
    urls: readonly string[],
    private readonly errors: Pick<ClientErrors<E>, 'fromFailure'>,
    private readonly httpVersion: HttpVersion = DEFAULT_HTTP_VERSION,
    /** Over HTTP/2: unary methods whose calls share one stream per gateway (see call-multiplexer.ts). */
    private readonly multiplexed: readonly MultiplexedMethod[] = [],
  ) {
    if (!Array.isArray(urls) || urls.length === 0) {
      throw errors.fromFailure({ code: 'INVALID_ARGUMENT', message: 'at least one gateway URL is needed (options.urls)' });
    }
    this.urls = urls.map((url) => normaliseUrl(url, errors));
  }

  /** The gateway calls go to now. */
  current(): Gateway<S> {
    if (this.closed) throw this.errors.fromFailure({ code: 'CLOSED', message: 'the client is closed' });
    const index = this.active;
    let connection = this.connections.get(index);
    if (!connection) {
      connection = this.connect(index);
      this.connections.set(index, connection);
    }
    return connection;
  }

  /** Moves on from `failed` to the next gateway, unless another call already did. */
  failover(failed: Gateway<S>): void {
    if (this.active === failed.index) this.active = (failed.index + 1) % this.urls.length;
  }

  /** Closes every connection; calls still on them fail. */
  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  private connect(index: number): Connection<S> {
    const url = this.urls[index]!;
    if (this.httpVersion === '2') {
      const sessionManager = new Http2SessionManager(url);
      const streams = createConnectTransport({ baseUrl: url, httpVersion: '2', useBinaryFormat: true, acceptCompression: [], sessionManager });
      const transport = createLeanUnaryTransport({ baseUrl: url, http2: sessionManager, streams, decoders: CLIENT_WIRE_DECODERS, multiplexed: this.multiplexed });
      return { index, url, client: createClient(this.service, transport), close: () => sessionManager.abort() };
    }
    // An agent of our own, so close() can end its idle keep-alive sockets.
    const agent = keepAliveAgent(url);
    const streams = createConnectTransport({ baseUrl: url, httpVersion: '1.1', useBinaryFormat: true, acceptCompression: [], nodeOptions: { agent } });
    const transport = createLeanUnaryTransport({ baseUrl: url, agent, streams, decoders: CLIENT_WIRE_DECODERS });
    return { index, url, client: createClient(this.service, transport), close: () => agent.destroy() };
  }
}

function normaliseUrl(raw: string, errors: Pick<ClientErrors<Error>, 'fromFailure'>): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw errors.fromFailure({ code: 'INVALID_ARGUMENT', message: `gateway URL must be an absolute http(s) URL, got "${raw}"` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw errors.fromFailure({ code: 'INVALID_ARGUMENT', message: `gateway URL must be http or https, got "${raw}"` });
  }
  return url.href.replace(/\/+$/, '');
}
