import type { GatewayAddress } from '../gateway-address.js';

/** The producer's and consumer's connection options for one invocation. */
export function clientOptions(gateway: GatewayAddress) {
  return {
    urls: gateway.urls,
    retry: { deadlineMs: gateway.timeoutMs, maxDelayMs: 1000 },
    requestTimeoutMs: gateway.timeoutMs,
  };
}
