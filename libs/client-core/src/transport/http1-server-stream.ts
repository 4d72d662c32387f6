import http from 'node:http';
import https from 'node:https';
import { create, isMessage, toBinary, type DescMessage, type DescMethodServerStreaming, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type StreamResponse } from '@connectrpc/connect';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import { endStreamFlag, endStreamFromJson } from '@connectrpc/connect/protocol-connect';
import { decodeAnswer, type WireDecoders } from './answer-decoding.js';
import { connectErrorOf, requestHeaders, splitHeaders, type HeadersInit, type RawHeaders } from './connect-http.js';
import { EnvelopeReader } from './envelope-reader.js';
import { wireBytesOf, withWireBytes } from './wire-bytes.js';

const CONTENT_TYPE_STREAM_PROTO = 'application/connect+proto';
const COMPRESSED_FLAG = 0b01;

export interface Http1ServerStreamOptions {
  baseUrl: URL;
  /** The agent whose keep-alive connections calls use. */
  agent: http.Agent | undefined;
  /** Headers every call carries unless it sets them itself. */
  headers?: () => Record<string, string> | undefined;
  /** Hand-written readers of the answer's messages, tried before fromBinary(). */
  decoders?: WireDecoders;
}

/** Opens one server-streaming call; what a Connect transport's `stream` does for that kind of method. */
export type ServerStreamCall = <I extends DescMessage, O extends DescMessage>(
  method: DescMethodServerStreaming<I, O>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: HeadersInit | undefined,
  input: AsyncIterable<MessageInitShape<I>>,
) => Promise<StreamResponse<I, O>>;

/**
 * Server-streaming calls of the Connect protocol (binary, uncompressed) written straight on
 * node:http: the request is one envelope, the answer is read envelope by envelope as it arrives
 * (a reader that stops reading stops the socket), and each message comes marked with its wire bytes
 * (`withWireBytes`), so a role that relays it (the gateway, from its replica to its client) sends
 * those bytes on instead of encoding the message again.
 *
 * Why not connect-node: every message it receives passes through a chain of async-iterable stages
 * (split, decompress, parse, the end-stream check) before the caller sees it, ~100 µs of client CPU
 * per message here; Tail (replica from broker) and ConsumeStream (gateway from replica) receive every
 * delivery. The call ends when the end-of-stream message arrives (its metadata become the trailer,
 * its error is thrown), when `signal` aborts or the deadline passes (the request is destroyed), or
 * with UNAVAILABLE when the connection ends without one.
 */
export function http1ServerStream(options: Http1ServerStreamOptions): ServerStreamCall {
  const { baseUrl, agent } = options;
  const basePath = baseUrl.pathname.replace(/\/+$/, '');
  const request = baseUrl.protocol === 'https:' ? https.request : http.request;
  const target = { protocol: baseUrl.protocol, hostname: baseUrl.hostname.replace(/^\[|\]$/g, ''), port: baseUrl.port, agent };

  return async <I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
  ): Promise<StreamResponse<I, O>> => {
    if (signal?.aborted) throw ConnectError.from(signal.reason, Code.Canceled);
    const body = envelopeOf(method, await firstOf(input));

    // One controller ends the call whatever the cause: the caller's signal, the deadline, or the end.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(ConnectError.from(signal?.reason, Code.Canceled));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeoutMs !== undefined && timeoutMs > 0
        ? setTimeout(() => controller.abort(new ConnectError(`the call took longer than ${timeoutMs} ms`, Code.DeadlineExceeded)), timeoutMs)
        : undefined;
    const finish = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };

    const req = request({
      ...target,
      method: 'POST',
      path: `${basePath}/${method.parent.typeName}/${method.name}`,
      headers: requestHeaders(CONTENT_TYPE_STREAM_PROTO, header, options.headers?.(), body.byteLength, timeoutMs) as http.OutgoingHttpHeaders,
    });
    const cancel = (): void => {
      req.destroy();
    };
    controller.signal.addEventListener('abort', cancel, { once: true });

    let res: http.IncomingMessage;
    try {
      res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        req.once('response', resolve);
        // A refused or reset connection: the cause (ECONNREFUSED, ...) is what callers classify.
        req.once('error', (error) => reject(controller.signal.aborted ? controller.signal.reason : new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
        req.end(body);
      });
    } catch (error) {
      finish();
      throw error;
    }

    // Errors after this point reach the caller through the reading of `res`; these listeners only keep
    // one that comes while nobody reads (or a second one) from becoming an uncaught exception.
    req.on('error', ignore);
    res.on('error', ignore);
    const { header: responseHeader } = splitHeaders(res.headers as RawHeaders);
    if (res.statusCode !== 200) {
      const answer = await readAll(res).catch(() => Buffer.alloc(0));
      finish();
      throw connectErrorOf(res.statusCode ?? 0, answer, responseHeader, new Headers());
    }
    if (res.headers['content-type'] !== CONTENT_TYPE_STREAM_PROTO) {
      finish();
      req.destroy();
      throw new ConnectError(`unexpected content-type ${String(res.headers['content-type'])}`, Code.Internal, responseHeader);
    }
    const trailer = new Headers();
    return {
      stream: true,
      service: method.parent,
      method,
      header: responseHeader,
      trailer,
      message: readMessages(method, res, trailer, controller.signal, finish, options.decoders),
    } as StreamResponse<I, O>;
  };
}

/** The answer's messages, decoded as their envelopes complete; the end-of-stream message fills `trailer`. */
async function* readMessages<O extends DescMessage>(
  method: DescMethodServerStreaming<DescMessage, O>,
  res: http.IncomingMessage,
  trailer: Headers,
  signal: AbortSignal,
  finish: () => void,
  decoders: WireDecoders | undefined,
): AsyncGenerator<MessageShape<O>> {
  const envelopes = new EnvelopeReader();
  let ended = false;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      for (const { flags, data } of envelopes.push(chunk)) {
        if ((flags & COMPRESSED_FLAG) !== 0) throw new ConnectError('the answer has a compressed message, though none was asked for', Code.Internal);
        if ((flags & endStreamFlag) !== 0) {
          ended = true;
          const end = endStreamFromJson(data);
          end.metadata.forEach((value, key) => trailer.append(key, value));
          if (end.error) throw end.error;
          return;
        }
        yield withWireBytes(decode(method, data, decoders), data);
      }
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof ConnectError) throw error;
    throw new ConnectError(`the stream broke: ${(error as Error).message}`, Code.Unavailable, undefined, undefined, error);
  } finally {
    finish();
    // Stopped early, failed, or ended: nothing more is read from this response.
    if (!ended || !res.complete) res.destroy();
  }
  if (signal.aborted) throw signal.reason;
  throw new ConnectError('the stream ended without its end-of-stream message', Code.Unavailable);
}

function decode<O extends DescMessage>(method: DescMethodServerStreaming<DescMessage, O>, data: Uint8Array, decoders: WireDecoders | undefined): MessageShape<O> {
  try {
    return decodeAnswer(method.output, data, decoders);
  } catch (error) {
    throw new ConnectError(`the answer is not a valid ${method.output.typeName}`, Code.Internal, undefined, undefined, error);
  }
}

async function firstOf<T>(input: AsyncIterable<T>): Promise<T> {
  for await (const message of input) return message;
  throw new ConnectError('a server-streaming call needs a request message', Code.Internal);
}

function envelopeOf<I extends DescMessage>(method: DescMethodServerStreaming<I, DescMessage>, input: MessageInitShape<I>): Uint8Array {
  const message = isMessage(input, method.input) ? input : create(method.input, input);
  return encodeEnvelope(0, wireBytesOf(message) ?? toBinary(method.input, message));
}

function ignore(): void {}

async function readAll(res: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
