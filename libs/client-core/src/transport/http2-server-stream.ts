import http2 from 'node:http2';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Http2SessionManager } from '@connectrpc/connect-node';
import type { WireDecoders } from './answer-decoding.js';
import type { RawHeaders } from './connect-http.js';
import { leanServerStream, type ServerStreamCall, type StreamAnswer, type StreamOpener } from './server-stream.js';

export interface Http2ServerStreamOptions {
  baseUrl: URL;
  /** The HTTP/2 session calls open their streams on. */
  sessions: Http2SessionManager;
  /** Headers every call carries unless it sets them itself. */
  headers?: () => Record<string, string> | undefined;
  /** Hand-written readers of the answer's messages, tried before fromBinary(). */
  decoders?: WireDecoders;
}

/** Server-streaming calls read by hand (see server-stream.ts) as streams of `sessions`' HTTP/2 connection. */
export function http2ServerStream(options: Http2ServerStreamOptions): ServerStreamCall {
  return leanServerStream({
    basePath: options.baseUrl.pathname.replace(/\/+$/, ''),
    open: http2Opener(options.sessions),
    headers: options.headers,
    decoders: options.decoders,
  });
}

function http2Opener(sessions: Http2SessionManager): StreamOpener {
  return (path, headers, body) => {
    let stream: http2.ClientHttp2Stream | undefined;
    let cancelled = false;
    const cancel = (): void => {
      cancelled = true;
      if (stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    const answer = sessions.request('POST', path, headers as http2.OutgoingHttpHeaders, {}).then(
      (opened) =>
        new Promise<StreamAnswer>((resolve, reject) => {
          stream = opened;
          // Cancelled while the session was connecting: the caller already has its reason.
          if (cancelled) {
            cancel();
            reject(new ConnectError('the call was cancelled', Code.Canceled));
            return;
          }
          opened.once('response', (head) => {
            // Errors from here on reach the caller through the reading of the body (a reset stream
            // ends its iteration with the error); this keeps a later one from going uncaught.
            opened.on('error', ignore);
            resolve({ status: Number(head[':status'] ?? 0), headers: head as RawHeaders, body: chunksOf(opened, sessions) });
          });
          // A reset stream or a session gone away: the cause (ERR_HTTP2_*) is what callers classify.
          opened.once('error', (error) => reject(new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
          // Closed without an answer (GOAWAY, a restart): nothing was processed (once answered, a no-op).
          opened.once('close', () => reject(new ConnectError(`the stream closed without an answer (code ${opened.rstCode})`, Code.Unavailable)));
          opened.end(body);
        }),
      // The session could not connect: whatever connect-node called it (it may say INTERNAL), the
      // gateway was not reached, and the cause (ECONNREFUSED, ...) stays for callers to classify.
      (error: unknown) => {
        throw new ConnectError(ConnectError.from(error).rawMessage, Code.Unavailable, undefined, undefined, error);
      },
    );
    return { answer, cancel, finished: (clean) => (clean ? undefined : cancel()) };
  };
}

/** The stream's chunks, each telling the session manager the connection is alive (so its keep-alive pings stay quiet). */
async function* chunksOf(stream: http2.ClientHttp2Stream, sessions: Http2SessionManager): AsyncGenerator<Buffer> {
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    sessions.notifyResponseByteRead(stream);
    yield chunk;
  }
}

function ignore(): void {}
