import type { ConnectRouter } from '@connectrpc/connect';
import { createLogger, startServiceServer } from '@partq/runtime';
import { Registry } from 'prom-client';

export interface FakeServer {
  url: string;
  /** host:port, as peers register their address. */
  address: string;
  close(): Promise<void>;
}

/**
 * connect-fastify prints to console.error when a handler's caller has gone away before the answer
 * (the gateway abandoned a stalled append, or stopped watching metadata): expected in these tests,
 * so that one message is dropped and everything else still printed.
 */
function muteAbandonedCallNoise(): void {
  const original = console.error.bind(console);
  const marker = Symbol.for('partq.gateway.test.muted');
  const consoleWithMarker = console as Console & { [marker]?: true };
  if (consoleWithMarker[marker]) return;
  consoleWithMarker[marker] = true;
  console.error = (...args: unknown[]) => {
    const abandoned = typeof args[0] === 'string' && args[0].startsWith('handler for rpc') && String(args[1]).includes('ERR_STREAM_DESTROYED');
    if (!abandoned) original(...args);
  };
}

/** A real Connect server on a free port, for a fake peer. */
export async function startFakeServer(routes: (router: ConnectRouter) => void, port = 0): Promise<FakeServer> {
  muteAbandonedCallNoise();
  const server = await startServiceServer({
    host: '127.0.0.1',
    port,
    logger: createLogger({ role: 'fake', instanceId: 'test', level: 'silent' }),
    registry: new Registry(),
    routes,
    shutdownTimeoutMs: 50,
  });
  return { url: server.url, address: `127.0.0.1:${server.port}`, close: () => server.close() };
}
