import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';

/** Fastify's request handler; it takes HTTP/1.1 and HTTP/2 compatibility requests alike. */
type Handler = http.RequestListener;

/** What every HTTP/2 connection starts with (RFC 9113 §3.4); no HTTP/1.x request starts with "PRI ". */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const SNIFF_BYTES = 4;
/** A connection that sends nothing for this long is dropped before either server sees it. */
const SNIFF_TIMEOUT_MS = 30_000;

/**
 * Flow-control windows of HTTP/2 connections and streams. Node's defaults (64 KiB) make a client
 * that sends a batch of a few hundred KiB wait for WINDOW_UPDATE round trips; batches are the
 * normal case here.
 */
const WINDOW_BYTES = 4 * 1024 * 1024;
/**
 * Largest DATA frame a client may send. HTTP/2's default (16 KiB) cuts a batch of a few hundred
 * KiB into dozens of frames, each read and handled on its own; batches are the normal case here.
 */
const MAX_FRAME_BYTES = 1024 * 1024;
/** How often every HTTP/2 connection is pinged by default (see `pingIntervalMs`). */
const DEFAULT_HTTP2_PING_INTERVAL_MS = 30_000;

export interface CleartextHttp2Options {
  /**
   * Every HTTP/2 connection is pinged this often; one that has not answered the previous ping by
   * the next is destroyed, with its streams. A peer whose host vanished (power lost, link cut)
   * sends no FIN, and a session with nothing to write never learns it is gone: an idle producer's
   * SendStream, a quiet consume stream's relay, would stay open until shutdown. Default 30 s.
   */
  pingIntervalMs?: number;
}

export interface CleartextHttp2Server {
  /** The server to listen on: HTTP/1.1 as usual, with HTTP/2 connections handed to an inner server. */
  server: http.Server;
  /** Asks every HTTP/2 connection to finish (GOAWAY): streams in flight complete, no new ones start. */
  closeHttp2Sessions(): void;
  /** Cuts every HTTP/2 connection (and every connection not yet sniffed) at once. */
  destroyHttp2Sessions(): void;
}

/**
 * One port, both protocols: HTTP/1.1 (curl, browsers, REST clients) and cleartext HTTP/2 with prior
 * knowledge (h2c, what the npm clients use). Node's http2 module has no HTTP/1.1 fallback without
 * TLS, so each new connection is sniffed: one that opens with the HTTP/2 preface goes to an HTTP/2
 * server, anything else to the HTTP/1.1 server. Both run the same request handler (Fastify's, which
 * copes with either kind of request).
 */
export function createCleartextHttp2Server(handler: Handler, options: CleartextHttp2Options = {}): CleartextHttp2Server {
  const server = http.createServer(handler);
  const inner = http2.createServer(
    { settings: { initialWindowSize: WINDOW_BYTES, maxFrameSize: MAX_FRAME_BYTES } },
    handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  // Sessions pinged at the last tick that have not answered yet.
  const unanswered = new Set<http2.ServerHttp2Session>();
  inner.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => {
      sessions.delete(session);
      unanswered.delete(session);
    });
    // The connection-level window is not a SETTINGS value: it grows by WINDOW_UPDATE.
    session.once('localSettings', () => session.setLocalWindowSize(WINDOW_BYTES));
    // A connection that fails (the peer reset it, a write found it gone) takes its session with it.
    session.on('error', () => session.destroy());
  });

  const pingIntervalMs = options.pingIntervalMs ?? DEFAULT_HTTP2_PING_INTERVAL_MS;
  let lastTick = performance.now();
  const pinger = setInterval(() => {
    const now = performance.now();
    // This process stalled (SIGSTOP, a long pause): answers may wait unread behind this timer.
    if (now - lastTick > 1.5 * pingIntervalMs) unanswered.clear();
    lastTick = now;
    for (const session of sessions) {
      if (session.destroyed) continue;
      if (unanswered.has(session)) {
        session.destroy();
        continue;
      }
      try {
        // The callback also runs (with an error) when the session closes first; the ping is moot then.
        if (session.ping(() => unanswered.delete(session))) unanswered.add(session);
      } catch {
        // Closing already: nothing to ask it.
      }
    }
  }, pingIntervalMs);
  pinger.unref();
  server.once('close', () => clearInterval(pinger));

  const http1ConnectionListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  // Sockets still being sniffed belong to neither server; close() must be able to cut them too.
  const sniffing = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    let seen: Buffer = Buffer.alloc(0);
    const sniff = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      if (seen.length < SNIFF_BYTES) return;
      stopSniffing();
      socket.pause();
      // Give the bytes back: whichever server takes the socket reads them first.
      socket.unshift(seen);
      if (seen.subarray(0, SNIFF_BYTES).equals(PREFACE.subarray(0, SNIFF_BYTES))) {
        // The HTTP/1.1 server keeps a socket half-open after the peer's FIN, so that an answer can
        // still go out; an HTTP/2 peer that sends one is gone (a client process that died). Left
        // half-open, its session, its streams and the calls on them lived until shutdown.
        socket.allowHalfOpen = false;
        // The HTTP/2 session drains the socket's buffer itself; resuming here would drop those bytes.
        inner.emit('connection', socket);
      } else {
        for (const listener of http1ConnectionListeners) listener.call(server, socket);
        socket.resume();
      }
    };
    const giveUp = (): void => {
      stopSniffing();
      socket.destroy();
    };
    const stopSniffing = (): void => {
      sniffing.delete(socket);
      socket.off('data', sniff);
      socket.off('end', giveUp);
      socket.off('error', giveUp);
      socket.off('timeout', giveUp);
      socket.setTimeout(0);
    };
    sniffing.add(socket);
    socket.on('data', sniff);
    socket.once('end', giveUp);
    socket.once('error', giveUp);
    socket.once('timeout', giveUp);
    socket.setTimeout(SNIFF_TIMEOUT_MS);
  });

  return {
    server,
    closeHttp2Sessions: () => {
      for (const session of sessions) session.close();
    },
    destroyHttp2Sessions: () => {
      for (const session of sessions) session.destroy();
      for (const socket of sniffing) socket.destroy();
    },
  };
}
