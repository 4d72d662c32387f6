import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Interceptor } from '@connectrpc/connect';

/** The header that carries a request's id from the client through every hop (gateway, broker, replica). */
export const REQUEST_ID_HEADER = 'x-request-id';

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Ids made here: a random prefix per process and a counter. Unique across processes in practice,
 * and ~100x cheaper than random bytes per request (that showed as 5% of a role's CPU per RPC).
 */
const processPrefix = randomBytes(6).toString('hex');
let requestCounter = 0;

/** A short unique id for a request that came without one. */
export function newRequestId(): string {
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${processPrefix}-${requestCounter.toString(36)}`;
}

/** The id of the request being served, if any (log lines and outgoing calls pick it up). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** The id a caller sent, if it is a sane one, else a new one. */
export function requestIdFrom(header: string | string[] | null | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && ACCEPTABLE_ID.test(given) ? given : newRequestId();
}

export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

/** For a hook that cannot wrap what follows (Fastify onRequest): the rest of this async flow has the id. */
export function enterRequestId(requestId: string): void {
  storage.enterWith({ requestId });
}

/**
 * Server side: every Connect call runs with the caller's request id, else the one the HTTP hook
 * already gave this request (it is echoed in the answer), else a new one.
 */
export const requestIdServerInterceptor: Interceptor = (next) => (request) => {
  const given = request.header.get(REQUEST_ID_HEADER);
  const requestId = given !== null && ACCEPTABLE_ID.test(given) ? given : (currentRequestId() ?? newRequestId());
  return runWithRequestId(requestId, () => next(request));
};

/** Client side: calls made while serving a request carry its id to the next hop. */
export const requestIdClientInterceptor: Interceptor = (next) => (request) => {
  const requestId = currentRequestId();
  if (requestId !== undefined && !request.header.has(REQUEST_ID_HEADER)) request.header.set(REQUEST_ID_HEADER, requestId);
  return next(request);
};
