/**
 * Messages whose wire bytes a hot path wrote itself (a hand-written codec), kept beside the message
 * so the lean unary transport (requests) and the servers' lean handler (answers) send them as they
 * are instead of encoding the message again. Other paths (JSON, gRPC, connect-node, interceptors
 * reading the message) still see an ordinary message, so the message and the bytes must say the
 * same: the codec that makes one makes both.
 */
const wireBytes = new WeakMap<object, Uint8Array>();

/** Marks `message` as already encoded as `bytes` (the binary protobuf of exactly this message). */
export function withWireBytes<T extends object>(message: T, bytes: Uint8Array): T {
  wireBytes.set(message, bytes);
  return message;
}

/** The bytes `message` was marked with, if any. */
export function wireBytesOf(message: object): Uint8Array | undefined {
  return wireBytes.get(message);
}
