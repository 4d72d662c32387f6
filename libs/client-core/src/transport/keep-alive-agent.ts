import http from 'node:http';
import https from 'node:https';

/**
 * Longest a keep-alive socket waits idle in the pool when the server announces no shorter limit.
 * With a limit, Node's agent lets a socket go a second before the server's announced keep-alive
 * timeout (`Keep-Alive: timeout=5` from Node's servers), but only if the agent has a timeout of its
 * own: without one it keeps idle sockets until the server closes them, and a call sent on one as
 * the server closes it fails with "socket hang up" (a drain under load failed so, once in a CI run).
 */
const IDLE_SOCKET_TIMEOUT_MS = 60_000;

/** An HTTP/1.1 agent whose idle keep-alive sockets are let go before the server closes them. */
export function keepAliveAgent(url: string): http.Agent {
  const options = { keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS };
  return url.startsWith('https:') ? new https.Agent(options) : new http.Agent(options);
}
