import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { finished } from 'node:stream';
import { fromBinary, toBinary, type DescMessage, type DescMethodBiDiStreaming, type DescMethodServerStreaming, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { createAsyncIterable, encodeEnvelope, transformInvokeImplementation } from '@connectrpc/connect/protocol';
import { endStreamFlag, endStreamToJson } from '@connectrpc/connect/protocol-connect';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EnvelopeReader, wireBytesOf } from '@partq/client-core';
import { WIRE_DECODERS } from '@partq/proto';
import { openConnectCall, outgoingHeaders, type ConnectCall } from './connect-call.js';

/** What a Connect streaming call with binary messages carries and is answered with. */
export const CONTENT_TYPE_STREAM_PROTO = 'application/connect+proto';
/** Every message of a Connect stream is enveloped: one flags byte, then its length (uint32, big-endian). */
const ENVELOPE_HEADER_BYTES = 5;
const COMPRESSED_FLAG = 0b01;

/** A server-streaming implementation as registered on the router (its descriptor gives it its types). */
export type AnyServerStreamImpl = (request: MessageShape<DescMessage>, context: HandlerContext) => AsyncIterable<MessageInitShape<DescMessage>>;
/** A bidirectional-streaming implementation as registered on the router. */
export type AnyBidiStreamImpl = (requests: AsyncIterable<MessageShape<DescMessage>>, context: HandlerContext) => AsyncIterable<MessageInitShape<DescMessage>>;

export interface LeanServerStreamOptions {
  method: DescMethodServerStreaming;
  impl: AnyServerStreamImpl;
  interceptors: Interceptor[];
  /** Aborts handlers' signals when the server shuts down. */
  shutdownSignal: AbortSignal;
  /** Largest request (its one enveloped message), in bytes. */
  readMaxBytes: number;
}

export interface LeanBidiStreamOptions {
  method: DescMethodBiDiStreaming;
  impl: AnyBidiStreamImpl;
  interceptors: Interceptor[];
  /** Aborts handlers' signals when the server shuts down. */
  shutdownSignal: AbortSignal;
  /** Largest request message, in bytes. */
  readMaxBytes: number;
}

type RawResponse = ServerResponse | Http2ServerResponse;

/**
 * Serves one server-streaming method of the Connect protocol (binary messages, uncompressed) as a
 * plain Fastify handler: read the one request message, run the interceptors and the implementation
 * (connect's own transformInvokeImplementation), and write each message it yields as an envelope
 * straight on the response, then the end-of-stream message (its trailers, or its error).
 *
 * Why not connect-fastify's universal handler: every message it sends passes through five more
 * async-iterable stages (serialize, envelope, compress, join, write to node), ~100 µs of server CPU
 * per message here with pushes 1 ms apart. Tail (broker to replica), ConsumeStream (replica to
 * gateway) and Consume (gateway to client) push every delivery through one, so each delivery paid
 * that three times. What the client sees is unchanged: the same status, headers, envelopes and
 * end-of-stream JSON as Connect's handler (it answers 200 once the first message or the end is
 * ready, so headers the implementation sets before that go out). A slow reader is waited for
 * ('drain'), never buffered without bound.
 */
export function leanServerStreamHandler(options: LeanServerStreamOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const { method, interceptors, readMaxBytes } = options;
  const spec = { kind: 'server_streaming' as const, method, impl: options.impl };
  return (request, reply) =>
    answerStream(method, request, reply, options.shutdownSignal, async (call) => {
      const input = decodeEnvelopedInput(method, await readBody(request, readMaxBytes));
      return transformInvokeImplementation(spec, call.context, interceptors)(createAsyncIterable([input]));
    });
}

/**
 * Serves one bidirectional-streaming method the same way (HTTP/2 only: Connect streams both ways
 * at once there alone): each enveloped request message is decoded as it arrives and handed to the
 * implementation, whose messages are written as they come. Why: a SendStream or AppendStream
 * carries every batch of a producer or gateway, and Connect's universal handler passes each
 * message through the same async-iterable stages as above.
 */
export function leanBidiStreamHandler(options: LeanBidiStreamOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const { method, interceptors, readMaxBytes } = options;
  const spec = { kind: 'bidi_streaming' as const, method, impl: options.impl };
  return (request, reply) =>
    answerStream(method, request, reply, options.shutdownSignal, (call) =>
      transformInvokeImplementation(spec, call.context, interceptors)(readEnvelopedInputs(method, request, readMaxBytes)),
    );
}

/** Opens the call, writes what `outputsOf` yields as envelopes, then the end-of-stream message (its trailers, or its error). */
async function answerStream(
  method: DescMethodServerStreaming | DescMethodBiDiStreaming,
  request: FastifyRequest,
  reply: FastifyReply,
  shutdownSignal: AbortSignal,
  outputsOf: (call: ConnectCall) => AsyncIterable<MessageShape<DescMessage>> | Promise<AsyncIterable<MessageShape<DescMessage>>>,
): Promise<void> {
  const res = reply.raw;
  let call: ConnectCall | undefined;
  let iterator: AsyncIterator<MessageShape<DescMessage>> | undefined;
  let done = false;
  let failure: ConnectError | undefined;
  try {
    call = openConnectCall(method, request, reply, shutdownSignal);
    const outputs = await outputsOf(call);
    iterator = outputs[Symbol.asyncIterator]();
    let next = await iterator.next();
    writeHead(reply, call.context.responseHeader);
    while (next.done !== true) {
      const body = wireBytesOf(next.value) ?? toBinary(method.output, next.value);
      if (!res.write(encodeEnvelope(0, body))) await drained(res, call.context.signal);
      next = await iterator.next();
    }
    done = true;
  } catch (thrown) {
    const signal = call?.context.signal;
    const error = signal?.aborted && !(thrown instanceof ConnectError) ? signal.reason : thrown;
    // As Connect's handler does: only a ConnectError's text reaches the client.
    failure = error instanceof ConnectError ? error : new ConnectError('internal error', Code.Internal, undefined, undefined, error);
  } finally {
    // Stopped early (an error, the client gone): the implementation's generator is told to finish.
    if (!done && iterator?.return) void iterator.return().catch(() => undefined);
    call?.abort();
    call?.dispose();
  }
  if (res.destroyed) return;
  if (!res.headersSent) writeHead(reply, call?.context.responseHeader ?? new Headers());
  const trailer = endStreamToJson(call?.context.responseTrailer ?? new Headers(), failure, {});
  // Settles on 'finish', an error or a premature close alike: end()'s own callback waits for 'finish' only.
  await new Promise<void>((resolve) => {
    finished(res, () => resolve());
    res.end(encodeEnvelope(endStreamFlag, Buffer.from(JSON.stringify(trailer))));
  });
}

/** The status and headers of a stream's answer, with those hooks set on the reply (x-request-id). */
function writeHead(reply: FastifyReply, header: Headers): void {
  const headers: Record<string, string | number | string[]> = {};
  for (const [key, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[key] = value;
  Object.assign(headers, outgoingHeaders(header));
  headers['content-type'] = CONTENT_TYPE_STREAM_PROTO;
  reply.raw.writeHead(200, headers);
}

/** The request body, whole: a server-streaming request is one enveloped message. */
async function readBody(request: FastifyRequest, readMaxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    bytes += chunk.byteLength;
    if (bytes > readMaxBytes + ENVELOPE_HEADER_BYTES) {
      throw new ConnectError(`the request is larger than the limit of ${readMaxBytes} bytes`, Code.ResourceExhausted);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** The request messages of a bidirectional stream, decoded one by one as their bytes arrive. */
async function* readEnvelopedInputs(method: DescMethodBiDiStreaming, request: FastifyRequest, readMaxBytes: number): AsyncGenerator<MessageShape<DescMessage>> {
  const reader = new EnvelopeReader();
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    for (const envelope of reader.push(chunk)) {
      if ((envelope.flags & COMPRESSED_FLAG) !== 0) throw new ConnectError('a request message is compressed, but no connect-content-encoding was given', Code.InvalidArgument);
      yield decodeMessage(method, envelope.data);
    }
    if (reader.bufferedBytes > readMaxBytes + ENVELOPE_HEADER_BYTES) {
      throw new ConnectError(`a request message is larger than the limit of ${readMaxBytes} bytes`, Code.ResourceExhausted);
    }
  }
  if (reader.bufferedBytes > 0) throw new ConnectError('the request ended inside a message', Code.InvalidArgument);
}

/** A request message: by its hand-written reader when there is one that takes the bytes (WIRE_DECODERS), else by fromBinary(). */
function decodeMessage(method: DescMethodServerStreaming | DescMethodBiDiStreaming, bytes: Uint8Array): MessageShape<DescMessage> {
  try {
    return (WIRE_DECODERS.get(method.input.typeName)?.(bytes) as MessageShape<DescMessage> | undefined) ?? fromBinary(method.input, bytes);
  } catch (error) {
    throw new ConnectError(`the request is not a valid ${method.input.typeName}`, Code.InvalidArgument, undefined, undefined, error);
  }
}

function decodeEnvelopedInput(method: DescMethodServerStreaming, body: Buffer): MessageShape<DescMessage> {
  if (body.byteLength < ENVELOPE_HEADER_BYTES || body.readUInt32BE(1) !== body.byteLength - ENVELOPE_HEADER_BYTES) {
    throw new ConnectError('the request is not one enveloped message', Code.InvalidArgument);
  }
  const flags = body[0]!;
  if (flags === endStreamFlag) throw new ConnectError('the request has no message', Code.InvalidArgument);
  if ((flags & COMPRESSED_FLAG) !== 0) throw new ConnectError('the request message is compressed, but no connect-content-encoding was given', Code.InvalidArgument);
  return decodeMessage(method, body.subarray(ENVELOPE_HEADER_BYTES));
}

/** Resolves when the response takes writes again, or when the call ends (its signal aborts). */
function drained(res: RawResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      res.off('drain', onDrain);
      reject(signal.reason);
    };
    res.once('drain', onDrain);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
