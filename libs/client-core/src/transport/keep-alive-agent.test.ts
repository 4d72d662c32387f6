import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepAliveAgent } from './keep-alive-agent.js';

/** A server that keeps idle connections `keepAliveTimeoutMs` (and says so in `Keep-Alive: timeout=…`). */
async function startServer(keepAliveTimeoutMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_request, response) => response.end('ok'));
  server.keepAliveTimeout = keepAliveTimeoutMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function get(url: string, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (response) => {
        response.resume();
        response.on('end', resolve);
      })
      .on('error', reject);
  });
}

const idleSockets = (agent: http.Agent): number => Object.values(agent.freeSockets).reduce((n, sockets) => n + (sockets?.length ?? 0), 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The server closes an idle connection after 3 s. A call sent on it just then fails with "socket
// hang up": the client must let it go first. Node's agent does so, a second early, only when it has
// a timeout of its own.
test('lets an idle socket go a second before the server announced it would close it', async () => {
  const server = await startServer(3_000);
  const agent = keepAliveAgent(server.url);
  const bare = new http.Agent({ keepAlive: true });
  try {
    await Promise.all([get(server.url, agent), get(server.url, bare)]);
    const idleFrom = Date.now();
    expect([idleSockets(agent), idleSockets(bare)]).toEqual([1, 1]);
    await sleep(2_500);
    // Past the client's 2 s: the socket is gone from the pool.
    expect(idleSockets(agent)).toBe(0);
    // The bare agent still holds its own, to be closed under it by the server (on a machine so
    // loaded that the wait overran the server's 3 s, the server has closed it already).
    if (Date.now() - idleFrom < 2_900) expect(idleSockets(bare)).toBe(1);
    await get(server.url, agent);
  } finally {
    agent.destroy();
    bare.destroy();
    await server.close();
  }
});
