import type { Transport } from '@connectrpc/connect';
import { fromConnectError } from '../errors/connect-mapping.js';

/**
 * A transport over several equivalent peers (an active manager and its standbys): calls go to
 * the peer that answered last; when it is UNAVAILABLE (down, or a standby that is not active) a
 * unary call moves on to the next peer, each tried once per call. A failed stream only moves the
 * choice on, so the caller's reconnect goes to the next peer.
 */
export function createFailoverTransport(peers: readonly Transport[]): Transport {
  if (peers.length === 0) throw new TypeError('a failover transport needs at least one peer');
  let current = 0;
  const isUnavailable = (error: unknown): boolean => fromConnectError(error).code === 'UNAVAILABLE';

  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      let lastError: unknown;
      for (let tried = 0; tried < peers.length; tried++) {
        const index = (current + tried) % peers.length;
        try {
          const response = await peers[index]!.unary(method, signal, timeoutMs, header, input, contextValues);
          current = index;
          return response;
        } catch (error) {
          if (!isUnavailable(error) || signal?.aborted) throw error;
          lastError = error;
        }
      }
      current = (current + 1) % peers.length;
      throw lastError;
    },

    async stream(method, signal, timeoutMs, header, input, contextValues) {
      const index = current;
      const moveOn = (): void => {
        if (current === index) current = (index + 1) % peers.length;
      };
      let response;
      try {
        response = await peers[index]!.stream(method, signal, timeoutMs, header, input, contextValues);
      } catch (error) {
        if (isUnavailable(error)) moveOn();
        throw error;
      }
      const messages = response.message;
      return {
        ...response,
        message: (async function* () {
          try {
            yield* messages;
          } catch (error) {
            if (isUnavailable(error)) moveOn();
            throw error;
          }
        })(),
      };
    },
  };
}
