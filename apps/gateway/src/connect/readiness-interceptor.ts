import type { Interceptor } from '@connectrpc/connect';
import { toConnectError } from '@partq/runtime';
import type { ReadinessGate } from '../cluster/readiness-gate.js';

/** Holds Connect calls until the gateway has its first metadata snapshot (see ReadinessGate). */
export function readinessInterceptor(gate: ReadinessGate): Interceptor {
  return (next) => async (request) => {
    try {
      await gate.pass();
    } catch (error) {
      throw toConnectError(error);
    }
    return next(request);
  };
}
