import type { ConnectRouter } from '@connectrpc/connect';
import { createLogger, startServiceServer } from '@partq/runtime';
import { Registry } from 'prom-client';

export interface FakeServer {
  url: string;
  /** host:port, as peers register their address. */
  address: string;
  close(): Promise<void>;
}

/** A real Connect server on a free port, for a fake peer. */
export async function startFakeServer(routes: (router: ConnectRouter) => void, port = 0): Promise<FakeServer> {
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
