import { create, isMessage, toBinary, type DescMessage, type DescMethodServerStreaming, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type StreamResponse } from '@connectrpc/connect';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import { endStreamFlag, endStreamFromJson } from '@connectrpc/connect/protocol-connect';
import { decodeAnswer, type WireDecoders } from './answer-decoding.js';
import { connectErrorOf, requestHeaders, splitHeaders, type HeadersInit, type RawHeaders } from './connect-http.js';
import { EnvelopeReader } from './envelope-reader.js';
import { wireBytesOf, withWireBytes } from './wire-bytes.js';

export const CONTENT_TYPE_STREAM_PROTO = 'application/connect+proto';
const COMPRESSED_FLAG = 0b01;

/** The head of a stream's answer, and its body as it arrives. */
export interface StreamAnswer {
  status: number;
  headers: RawHeaders;
  body: AsyncIterable<Buffer>;
}

/** One exchange a StreamOpener started. */
export interface OpenedStream {
  /** The answer's head once it arrives; rejects with a ConnectError (UNAVAILABLE) when the request fails first. */
  answer: Promise<StreamAnswer>;
  /** Cuts the exchange: the caller's signal, the deadline, or an answer that is not read to its end. */
  cancel(): void;
  /** The reader is done with the answer: `clean` when it read the end-of-stream message. */
  finished(clean: boolean): void;
}

/** Sends a request (path, headers, its whole body) on one protocol (HTTP/1.1 or HTTP/2). */
export type StreamOpener = (path: string, headers: RawHeaders, body: Uint8Array) => OpenedStream;

export interface LeanServerStreamOptions {
  basePath: string;
  open: StreamOpener;
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
 * node:http or node:http2 (`open`): the request is one envelope, the answer is read envelope by
 * envelope as it arrives (a reader that stops reading stops the transfer), and each message comes
 * marked with its wire bytes (`withWireBytes`), so a role that relays it (the gateway, from its
 * replica to its client) sends those bytes on instead of encoding the message again.
 *
 * Why not connect-node: every message it receives passes through a chain of async-iterable stages
 * (split, decompress, parse, the end-stream check) before the caller sees it, ~100 µs of client CPU
 * per message here; Tail (replica from broker), ConsumeStream (gateway from replica) and a
 * consumer's Consume (client from gateway) receive every delivery. The call ends when the
 * end-of-stream message arrives (its metadata become the trailer, its error is thrown), when
 * `signal` aborts or the deadline passes (the exchange is cut), or with UNAVAILABLE when the
 * connection ends without one.
 */
export function leanServerStream(options: LeanServerStreamOptions): ServerStreamCall {
  const { basePath, open } = options;
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

    const path = `${basePath}/${method.parent.typeName}/${method.name}`;
    const opened = open(path, requestHeaders(CONTENT_TYPE_STREAM_PROTO, header, options.headers?.(), body.byteLength, timeoutMs), body);
    controller.signal.addEventListener('abort', () => opened.cancel(), { once: true });

    let answer: StreamAnswer;
    try {
      answer = await opened.answer;
    } catch (error) {
      finish();
      throw controller.signal.aborted ? controller.signal.reason : error;
    }
    const { header: responseHeader } = splitHeaders(answer.headers);
    if (answer.status !== 200) {
      const bytes = await readAll(answer.body).catch(() => Buffer.alloc(0));
      finish();
      opened.finished(true);
      throw connectErrorOf(answer.status, bytes, responseHeader, new Headers());
    }
    if (answer.headers['content-type'] !== CONTENT_TYPE_STREAM_PROTO) {
      finish();
      opened.cancel();
      throw new ConnectError(`unexpected content-type ${String(answer.headers['content-type'])}`, Code.Internal, responseHeader);
    }
    const trailer = new Headers();
    return {
      stream: true,
      service: method.parent,
      method,
      header: responseHeader,
      trailer,
      message: readMessages(method, answer.body, trailer, controller.signal, finish, opened, options.decoders),
    } as StreamResponse<I, O>;
  };
}

/** The answer's messages, decoded as their envelopes complete; the end-of-stream message fills `trailer`. */
async function* readMessages<O extends DescMessage>(
  method: DescMethodServerStreaming<DescMessage, O>,
  body: AsyncIterable<Buffer>,
  trailer: Headers,
  signal: AbortSignal,
  finish: () => void,
  opened: OpenedStream,
  decoders: WireDecoders | undefined,
): AsyncGenerator<MessageShape<O>> {
  const envelopes = new EnvelopeReader();
  let ended = false;
  try {
    for await (const chunk of body) {
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
    // Stopped early, failed, or ended: nothing more is read from this answer.
    opened.finished(ended);
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

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
