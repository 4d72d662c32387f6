import http from 'node:http';
import https from 'node:https';
import { Code, ConnectError } from '@connectrpc/connect';
import type { WireDecoders } from './answer-decoding.js';
import type { RawHeaders } from './connect-http.js';
import { leanServerStream, type ServerStreamCall, type StreamAnswer, type StreamOpener } from './server-stream.js';

export interface Http1ServerStreamOptions {
  baseUrl: URL;
  /** The agent whose keep-alive connections calls use. */
  agent: http.Agent | undefined;
  /** Headers every call carries unless it sets them itself. */
  headers?: () => Record<string, string> | undefined;
  /** Hand-written readers of the answer's messages, tried before fromBinary(). */
  decoders?: WireDecoders;
}

/** Server-streaming calls read by hand (see server-stream.ts) over node:http, on `agent`'s connections. */
export function http1ServerStream(options: Http1ServerStreamOptions): ServerStreamCall {
  const { baseUrl } = options;
  return leanServerStream({
    basePath: baseUrl.pathname.replace(/\/+$/, ''),
    open: http1Opener(baseUrl, options.agent),
    headers: options.headers,
    decoders: options.decoders,
  });
}

function http1Opener(baseUrl: URL, agent: http.Agent | undefined): StreamOpener {
  const request = baseUrl.protocol === 'https:' ? https.request : http.request;
  const target = { protocol: baseUrl.protocol, hostname: baseUrl.hostname.replace(/^\[|\]$/g, ''), port: baseUrl.port, agent };
  return (path, headers, body) => {
    const req = request({ ...target, method: 'POST', path, headers: headers as http.OutgoingHttpHeaders });
    let res: http.IncomingMessage | undefined;
    const answer = new Promise<StreamAnswer>((resolve, reject) => {
      req.once('response', (response) => {
        res = response;
        // Errors from here on reach the caller through the reading of the body; these listeners only
        // keep one that comes while nobody reads (or a second one) from becoming an uncaught exception.
        req.on('error', ignore);
        response.on('error', ignore);
        resolve({ status: response.statusCode ?? 0, headers: response.headers as RawHeaders, body: response as AsyncIterable<Buffer> });
      });
      // A refused or reset connection: the cause (ECONNREFUSED, ...) is what callers classify.
      req.once('error', (error) => reject(new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
      req.end(body);
    });
    return {
      answer,
      cancel: () => req.destroy(),
      // An answer not read to its end (or with bytes after its end) leaves its connection unusable.
      finished: (clean) => {
        if (res && (!clean || !res.complete)) res.destroy();
      },
    };
  };
}

function ignore(): void {}
