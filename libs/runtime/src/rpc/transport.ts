import type http from 'node:http';
import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client, type Transport } from '@connectrpc/connect';
import { createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { keepAliveAgent } from '@partq/client-core';
import { createFailoverTransport } from './failover-transport.js';
import { createLeanUnaryTransport } from './lean-unary-transport.js';
import { requestIdClientInterceptor } from '../context/request-context.js';

interface CachedTransport {
  transport: Transport;
  agent: http.Agent;
  /** The HTTP/2 connection multiplexed calls (Append) share; it connects on the first of them. */
  sessions: Http2SessionManager;
}

/** One transport (and one keep-alive connection pool) per peer, shared by every client of it. */
const transports = new Map<string, CachedTransport>();

/**
 * The Connect transport partq roles use to call each other: Connect protocol, binary messages,
 * HTTP/1.1 with keep-alive (HTTP/2 sessions linger and cost more per call here), unary calls on
 * node:http directly (`createLeanUnaryTransport`), Appends as messages of one HTTP/2 stream.
 * Cached per base URL.
 * Answers come uncompressed: roles talk over a LAN or loopback, where gzip (Connect's default for
 * answers over 1 KiB) only burns CPU on both ends; with 1 KiB messages it compressed every fetched
 * and synced record.
 */
export function createRpcTransport(baseUrl: string): Transport {
  const key = normaliseBaseUrl(baseUrl);
  const cached = transports.get(key);
  if (cached) return cached.transport;

  const agent = keepAliveAgent(key);
  const connect = createConnectTransport({
    baseUrl: key,
    httpVersion: '1.1',
    useBinaryFormat: true,
    acceptCompression: [],
    nodeOptions: { agent },
    interceptors: [requestIdClientInterceptor],
  });
  // Unary calls (one per batch on every hop) skip connect-node's per-call overhead; streams keep it.
  const sessions = new Http2SessionManager(key);
  const transport = createLeanUnaryTransport(key, agent, connect, sessions);
  transports.set(key, { transport, agent, sessions });
  return transport;
}

/**
 * A typed client for `service` at `baseUrl`, on the cached transport. A comma-separated list of
 * URLs (an active manager and its standbys) gives a client that fails over between them.
 */
export function createRpcClient<T extends DescService>(service: T, baseUrl: string): Client<T> {
  const urls = baseUrl.split(',').map((url) => url.trim()).filter((url) => url !== '');
  if (urls.length > 1) return createClient(service, createFailoverTransport(urls.map(createRpcTransport)));
  return createClient(service, createRpcTransport(baseUrl));
}

/**
 * Drops the cached transport of one peer (it left the cluster) or of all, closing their idle
 * connections. Calls in flight on them finish; later calls make a new transport.
 */
export function closeRpcTransports(baseUrl?: string): void {
  const keys = baseUrl === undefined ? [...transports.keys()] : baseUrl.split(',').map((url) => normaliseBaseUrl(url.trim()));
  for (const key of keys) {
    transports.get(key)?.agent.destroy();
    transports.get(key)?.sessions.abort();
    transports.delete(key);
  }
}

/** "http://h:1/" and "http://h:1" are the same peer. */
function normaliseBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`RPC base URL must be an absolute http(s) URL, got "${baseUrl}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`RPC base URL must be http or https, got "${baseUrl}"`);
  }
  return url.href.replace(/\/+$/, '');
}
