import type { IncomingHttpHeaders } from 'node:http';
import type { DescMethod } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextValues, type HandlerContext } from '@connectrpc/connect';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Longest timeout a client may ask for (Connect's own limit: 10 digits of milliseconds). */
const MAX_TIMEOUT_MS = 9_999_999_999;
const TRAILER_PREFIX = 'trailer-';

/** One Connect call served by a lean handler: its handler context, and how to end it. */
export interface ConnectCall {
  context: HandlerContext;
  /** Aborts `context.signal` (the implementation stops); a no-op once aborted. */
  abort(reason?: unknown): void;
  /** Removes the call's timer and listeners; call once the answer is written. */
  dispose(): void;
}

/**
 * Opens a call the way Connect's own handlers do: a handler context whose signal aborts when the
 * deadline (`connect-timeout-ms`) passes, the server shuts down, or the client goes away before
 * the answer is complete. Throws a ConnectError (and registers nothing) for an invalid timeout or
 * a server already shutting down.
 */
export function openConnectCall(method: DescMethod, request: FastifyRequest, reply: FastifyReply, shutdownSignal: AbortSignal): ConnectCall {
  const raw = request.raw;
  const timeoutMs = parseTimeout(raw.headers['connect-timeout-ms']);
  if (shutdownSignal.aborted) throw ConnectError.from(shutdownSignal.reason, Code.Unavailable);

  const controller = new AbortController();
  const abort = (reason?: unknown): void => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  const timer =
    timeoutMs === undefined ? undefined : setTimeout(() => abort(new ConnectError(`the deadline of ${timeoutMs} ms passed`, Code.DeadlineExceeded)), timeoutMs);
  const onShutdown = (): void => abort(shutdownSignal.reason);
  const onClose = (): void => {
    // Not writableFinished: an HTTP/2 response whose stream the client reset reads as finished.
    if (!reply.raw.writableEnded) abort(new ConnectError('the client went away', Code.Canceled));
  };
  shutdownSignal.addEventListener('abort', onShutdown, { once: true });
  reply.raw.once('close', onClose);

  const context: HandlerContext = {
    method,
    service: method.parent,
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
  return {
    context,
    abort,
    dispose: () => {
      if (timer !== undefined) clearTimeout(timer);
      shutdownSignal.removeEventListener('abort', onShutdown);
      reply.raw.off('close', onClose);
    },
  };
}

/** connect-timeout-ms: up to 10 digits of milliseconds; anything else is refused, as Connect does. */
function parseTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,10}$/.test(text)) throw new ConnectError(`invalid connect-timeout-ms: ${String(text)}`, Code.InvalidArgument);
  return Math.min(Number(text), MAX_TIMEOUT_MS);
}

function requestHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || key.startsWith(':')) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(key, v);
    else headers.append(key, value);
  }
  return headers;
}

/**
 * Headers to write on the wire: `header`, plus `trailer` as `trailer-` headers (how the Connect
 * protocol sends a unary call's trailers; streams send theirs in the end-of-stream message).
 */
export function outgoingHeaders(header: Headers, trailer?: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  header.forEach((value, key) => (out[key] = value));
  trailer?.forEach((value, key) => (out[`${TRAILER_PREFIX}${key}`] = value));
  return out;
}
