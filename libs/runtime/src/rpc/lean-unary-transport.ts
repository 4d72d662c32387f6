import type http from 'node:http';
import type { Transport } from '@connectrpc/connect';
import type { Http2SessionManager } from '@connectrpc/connect-node';
import { createLeanUnaryTransport as createClientTransport, type MultiplexedMethod } from '@partq/client-core';
import { BrokerService, WIRE_DECODERS } from '@partq/proto';
import { currentRequestId, REQUEST_ID_HEADER } from '../context/request-context.js';

/**
 * The lean unary transport of @partq/client-core (Connect unary calls written on node:http, streams
 * on `streams`) for calls between roles, over HTTP/1.1 keep-alive connections. Calls made while
 * serving a request carry its id to the next hop (as requestIdClientInterceptor does for streams).
 *
 * Why not connect-node for unary calls: it spends ~300 µs of client CPU per call on machinery around
 * the exchange (~900 µs per call for both sides against ~600 µs this way, same server), and roles
 * make a unary call for every batch they move (Append, GetUpdates, Fetch, Commit). Consume answers
 * are read by @partq/proto's hand-written decoders (WIRE_DECODERS), not by reflection.
 */
export function createLeanUnaryTransport(baseUrl: string, agent: http.Agent, streams: Transport, multiplexOver?: Http2SessionManager): Transport {
  return createClientTransport({ baseUrl, agent, streams, headers: requestIdHeader, decoders: WIRE_DECODERS, multiplexed: MULTIPLEXED, multiplexOver });
}

/**
 * Appends (one per batch, the gateway's every produce) travel as messages of one AppendStream per
 * broker over HTTP/2: on this project's machines a message on an open stream cost both sides
 * about a third of what a call of its own did (docs/performance.md).
 */
const MULTIPLEXED: readonly MultiplexedMethod[] = [{ unary: BrokerService.method.append, stream: BrokerService.method.appendStream }];

function requestIdHeader(): Record<string, string> | undefined {
  const requestId = currentRequestId();
  return requestId === undefined ? undefined : { [REQUEST_ID_HEADER]: requestId };
}
