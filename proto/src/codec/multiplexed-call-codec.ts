import { tag, varintSize, WIRE_LEN, WIRE_VARINT, WireReader, writeVarint } from './wire.js';
import { WireFormatError } from './wire-format-error.js';

/*
 * The envelope of a unary call carried as a message of a stream (SendStream, AppendStream; see
 * call-multiplexer.ts and multiplexed-calls.ts): `{ uint64 call_id = 1; <Request> request = 2; }`,
 * answered `{ uint64 call_id = 1; oneof { <Response> response = 2; CallFailure failure = 3; } }`.
 * The codecs of each stream read and write their request and response inside it.
 */

const TAG_CALL_ID = tag(1, WIRE_VARINT);
const TAG_REQUEST = tag(2, WIRE_LEN);
const TAG_RESPONSE = tag(2, WIRE_LEN);

/** Something a hand-written reader leaves to protobuf-es (which keeps unknown fields and reports malformed bytes its own way). */
export class NotTaken extends Error {}

/** A call as fromBinary() makes it: its id and, when given, its request. */
export interface MultiplexedCallMessage<R> {
  callId: bigint;
  request?: R;
}

/**
 * A call read by hand: `call` is the message to fill (its type name and zero values), `readRequest`
 * reads the request's fields (throwing NotTaken for what it does not take). Undefined for anything
 * this does not take: an unknown field, a request given twice (protobuf would merge the two), a
 * call id beyond 2^53, malformed bytes.
 */
export function decodeMultiplexedCall<C extends MultiplexedCallMessage<R>, R>(bytes: Uint8Array, call: C, readRequest: (reader: WireReader) => R): C | undefined {
  return unlessDeclined(() => {
    const reader = new WireReader(bytes);
    while (!reader.done) {
      switch (reader.tag()) {
        case TAG_CALL_ID:
          call.callId = BigInt(reader.uint());
          break;
        case TAG_REQUEST: {
          if (call.request !== undefined) throw new NotTaken();
          const start = reader.lengthDelimited();
          call.request = readRequest(new WireReader(bytes, start, reader.pos));
          break;
        }
        default:
          throw new NotTaken();
      }
    }
    return call;
  });
}

/** What `read` returns, or undefined when it declined the bytes (NotTaken) or found them malformed (WireFormatError). */
export function unlessDeclined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof NotTaken || error instanceof WireFormatError) return undefined;
    throw error;
  }
}

/**
 * An answer's bytes: the call id, then the response of `responseSize` bytes that `writeResponse`
 * writes at the position it is given (returning the next). Equal to toBinary() of the answer when
 * the response's bytes are; undefined for a call id beyond 2^53.
 */
export function encodeMultiplexedAnswer(callId: bigint, responseSize: number, writeResponse: (bytes: Buffer, at: number) => number): Uint8Array | undefined {
  const id = safeNumber(callId);
  if (id === undefined) return undefined;
  const total = (id === 0 ? 0 : 1 + varintSize(id)) + 1 + varintSize(responseSize) + responseSize;
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  if (id !== 0) {
    bytes[at++] = TAG_CALL_ID;
    at = writeVarint(bytes, at, id);
  }
  bytes[at++] = TAG_RESPONSE;
  at = writeVarint(bytes, at, responseSize);
  at = writeResponse(bytes, at);
  if (at !== total) throw new Error(`multiplexed answer codec: wrote ${at} bytes, sized ${total}`);
  return bytes;
}

/** A non-negative int64 as a number, or undefined beyond 2^53 (or negative). */
export function safeNumber(value: bigint): number | undefined {
  return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}
