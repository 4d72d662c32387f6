import type http2 from 'node:http2';
import { fromBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Http2SessionManager } from '@connectrpc/connect-node';
import { endStreamFromJson } from '@connectrpc/connect/protocol-connect';
import { ERROR_CODE_HEADER, ERROR_DETAILS_HEADER } from '../errors/rpc-error-mapping.js';
import { varintSize, writeVarint } from '../gen/codec/wire.js';
import { CallFailureSchema } from '../gen/partq/v1/types_pb.js';
import { ENVELOPE_HEADER_BYTES, EnvelopeReader } from './envelope-reader.js';

export const CONTENT_TYPE_STREAM_PROTO = 'application/connect+proto';
const END_STREAM_FLAG = 0b10;
/** Protobuf wire types of the fields of a call and its answer. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** What a call on the stream reports, at most once: its answer's bytes, or why there is none. */
export interface MultiplexedCallEvents {
  answered(bytes: Uint8Array): void;
  failed(error: ConnectError): void;
  /** The server does not serve the stream method (an older gateway): make the call on its own. */
  refused(): void;
}

/**
 * Unary calls of one method sent as messages of one long-lived bidirectional stream of its twin
 * (ProducerService.SendStream for Send), over an HTTP/2 session. Each call is a message
 * `{ call_id = 1; request = 2 }` and is answered by `{ call_id = 1; response = 2 | failure = 3 }`,
 * in whatever order the server completes them.
 *
 * Why: on this project's machines one HTTP/2 unary call cost ~400 µs of client CPU and ~260 µs of
 * server CPU for the stream it opens and closes, a message on an open stream ~140 and ~100 µs
 * (docs/performance.md). The stream is opened with the first call and kept; while no call is
 * pending its connection does not keep the process alive. A stream that breaks fails the calls
 * pending on it as UNAVAILABLE (retriable: the callers' sequences keep a retry from landing twice)
 * and the next call opens a new one.
 */
export class CallMultiplexer {
  private stream: http2.ClientHttp2Stream | undefined;
  /** Messages written while the stream was being opened, sent once it is. */
  private queued: Buffer[] | undefined;
  private readonly pending = new Map<number, MultiplexedCallEvents>();
  private nextCallId = 1;
  private refusedByServer = false;

  constructor(
    private readonly sessions: Http2SessionManager,
    private readonly path: string,
  ) {}

  /** False once the server said it does not serve the stream method: calls then go on their own. */
  get usable(): boolean {
    return !this.refusedByServer;
  }

  /** Sends one call's request bytes; returns how to forget it (an abort or timeout: its answer is then ignored). */
  call(request: Uint8Array, events: MultiplexedCallEvents): () => void {
    const callId = this.nextCallId++;
    this.pending.set(callId, events);
    this.write(encodeCall(callId, request));
    return () => this.forget(callId);
  }

  private write(message: Buffer): void {
    if (this.stream) {
      this.stream.write(message);
      if (this.pending.size === 1) this.stream.session?.ref();
      return;
    }
    if (this.queued) {
      this.queued.push(message);
      return;
    }
    this.queued = [message];
    this.open();
  }

  private open(): void {
    const headers = { 'content-type': CONTENT_TYPE_STREAM_PROTO, 'connect-protocol-version': '1' };
    this.sessions.request('POST', this.path, headers as http2.OutgoingHttpHeaders, {}).then(
      (stream) => this.opened(stream),
      (error: unknown) => {
        this.queued = undefined;
        this.failAll(ConnectError.from(error, Code.Unavailable));
      },
    );
  }

  private opened(stream: http2.ClientHttp2Stream): void {
    this.stream = stream;
    const queued = this.queued ?? [];
    this.queued = undefined;
    const reader = new EnvelopeReader();
    let failure: ConnectError | undefined;
    stream.on('response', (headers) => {
      const status = Number(headers[':status'] ?? 0);
      if (status === 404 || status === 415) {
        // No such method here (or not as a Connect stream): an older gateway. Calls go on their own from now on.
        this.refusedByServer = true;
        this.drop(stream);
        for (const events of this.takePending()) events.refused();
        return;
      }
      if (status !== 200) failure = new ConnectError(`the send stream was answered HTTP ${status}`, Code.Unavailable);
    });
    stream.on('data', (chunk: Buffer) => {
      this.sessions.notifyResponseByteRead(stream);
      for (const envelope of reader.push(chunk)) {
        if (envelope.flags & END_STREAM_FLAG) failure ??= endStreamError(envelope.data);
        else this.answer(envelope.data);
      }
    });
    const ended = (): void => {
      if (this.stream !== stream) return;
      this.drop(stream);
      if (failure?.code === Code.Unimplemented) {
        // The method is known but not served here: as a 404, calls go on their own from now on.
        this.refusedByServer = true;
        for (const events of this.takePending()) events.refused();
        return;
      }
      this.failAll(failure ?? new ConnectError(`the send stream closed (code ${stream.rstCode ?? 0})`, Code.Unavailable));
    };
    // The server ended its side (its end-of-stream message came, or it stopped): the stream is done,
    // though ours is still open.
    stream.on('end', ended);
    stream.on('close', ended);
    // The cause (ERR_HTTP2_*) is what callers classify; 'close' follows.
    stream.on('error', (error) => (failure ??= new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
    for (const message of queued) stream.write(message);
    if (this.pending.size === 0) stream.session?.unref();
  }

  private answer(bytes: Buffer): void {
    const answer = decodeAnswer(bytes);
    const events = this.pending.get(answer.callId);
    if (!events) return; // forgotten (aborted or timed out)
    this.forget(answer.callId);
    if (answer.response) events.answered(answer.response);
    else events.failed(answer.failure ?? new ConnectError(`call ${answer.callId} was answered with neither a response nor a failure`, Code.Internal));
  }

  private forget(callId: number): void {
    if (!this.pending.delete(callId)) return;
    // Nothing pending: an open stream must not keep the process alive (an idle keep-alive connection does not).
    if (this.pending.size === 0) this.stream?.session?.unref();
  }

  private drop(stream: http2.ClientHttp2Stream): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    if (!stream.closed) stream.close();
  }

  private takePending(): MultiplexedCallEvents[] {
    const all = [...this.pending.values()];
    this.pending.clear();
    return all;
  }

  private failAll(error: ConnectError): void {
    for (const events of this.takePending()) events.failed(error);
  }
}

/** A call as an enveloped message: `call_id` (field 1) and the request's bytes (field 2). */
function encodeCall(callId: number, request: Uint8Array): Buffer {
  const bodyLength = 1 + varintSize(callId) + 1 + varintSize(request.byteLength) + request.byteLength;
  const out = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + bodyLength);
  out[0] = 0;
  out.writeUInt32BE(bodyLength, 1);
  let at = ENVELOPE_HEADER_BYTES;
  out[at++] = (1 << 3) | VARINT;
  at = writeVarint(out, at, callId);
  out[at++] = (2 << 3) | LENGTH_DELIMITED;
  at = writeVarint(out, at, request.byteLength);
  out.set(request, at);
  return out;
}

interface DecodedAnswer {
  callId: number;
  response?: Uint8Array;
  failure?: ConnectError;
}

/** An answer's `call_id` (1), and its `response` bytes (2) or its `failure` (3) as the ConnectError a unary call would have thrown. */
export function decodeAnswer(bytes: Uint8Array): DecodedAnswer {
  const answer: DecodedAnswer = { callId: 0 };
  let at = 0;
  while (at < bytes.length) {
    const [tag, afterTag] = readVarint(bytes, at);
    at = afterTag;
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === VARINT) {
      const [value, next] = readVarint(bytes, at);
      at = next;
      if (field === 1) answer.callId = value;
    } else if (wireType === LENGTH_DELIMITED) {
      const [length, start] = readVarint(bytes, at);
      at = start + length;
      if (at > bytes.length) throw new ConnectError('a send stream answer is cut short', Code.Internal);
      const value = bytes.subarray(start, at);
      if (field === 2) answer.response = value;
      else if (field === 3) answer.failure = failureOf(value);
    } else {
      throw new ConnectError(`a send stream answer has a field of wire type ${wireType}`, Code.Internal);
    }
  }
  return answer;
}

/** The error an end-of-stream message carries, if any (an unreadable one is an error of its own). */
function endStreamError(bytes: Uint8Array): ConnectError | undefined {
  try {
    return endStreamFromJson(bytes).error;
  } catch (error) {
    return ConnectError.from(error, Code.Internal);
  }
}

function failureOf(bytes: Uint8Array): ConnectError {
  const failure = fromBinary(CallFailureSchema, bytes);
  const metadata: Record<string, string> = {};
  if (failure.code) metadata[ERROR_CODE_HEADER] = failure.code;
  if (failure.detailsJson) metadata[ERROR_DETAILS_HEADER] = failure.detailsJson;
  const code = failure.connectCode in Code ? (failure.connectCode as Code) : Code.Unknown;
  return new ConnectError(failure.message, code, metadata);
}

/** A varint up to 2^53 (call ids and lengths never come near it). */
function readVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at >= bytes.length) throw new ConnectError('a send stream answer is cut short', Code.Internal);
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 128;
  }
}
