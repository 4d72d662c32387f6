import type { Interceptor, StreamResponse } from '@connectrpc/connect';
import { fromConnectError } from '../errors/connect-mapping.js';
import type { PartqError } from '../errors/partq-error.js';
import { isSupersededRun } from '../errors/superseded.js';
import type { LeanHistogram } from './lean-histogram.js';
import type { RpcLabel } from './rpc-duration.js';

/**
 * A Connect server interceptor that records every call in `rpcDurationHistogram`. A streaming call
 * is measured until its last message is sent (or it fails), not just until it starts. A consume
 * stream's run that its own client released or replaced ends with UNAVAILABLE for whoever relays
 * it, but it is counted as CANCELLED: every consumer that stops would otherwise show as an error.
 */
export function rpcMetricsInterceptor(histogram: LeanHistogram<RpcLabel>): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const stop = (code: string): void =>
      histogram.series({ service: req.service.typeName, method: req.method.name, code }).observe((performance.now() - started) / 1000);
    let res;
    try {
      res = await next(req);
    } catch (e) {
      stop(codeOf(e));
      throw e;
    }
    if (!res.stream) {
      stop('OK');
      return res;
    }
    return { ...res, message: observeStream(res, stop) } as StreamResponse;
  };
}

async function* observeStream(res: StreamResponse, stop: (code: string) => void): AsyncGenerator<unknown> {
  // Stays CANCELLED when the consumer stops iterating early (the client went away).
  let code = 'CANCELLED';
  try {
    yield* res.message;
    code = 'OK';
  } catch (e) {
    code = codeOf(e);
    throw e;
  } finally {
    stop(code);
  }
}

function codeOf(error: unknown): string {
  const partq: PartqError = fromConnectError(error);
  return isSupersededRun(partq) ? 'CANCELLED' : partq.code;
}
