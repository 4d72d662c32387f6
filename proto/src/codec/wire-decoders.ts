import { ConsumeResponseSchema, ConsumeStreamResponseSchema } from '../gen/partq/v1/replica_pb.js';
import { decodeConsumeResponse, decodeConsumeStreamResponse } from './consumed-messages-codec.js';

/** Reads one message's bytes by hand, or answers undefined to leave them to protobuf-es. */
export type WireDecoder = (bytes: Uint8Array) => { $typeName: string } | undefined;

/**
 * The answers the roles read by hand, by message type name: what a transport between roles
 * consults before protobuf-es's fromBinary (see createLeanUnaryTransport's `decoders`).
 */
export const WIRE_DECODERS: ReadonlyMap<string, WireDecoder> = new Map<string, WireDecoder>([
  [ConsumeStreamResponseSchema.typeName, decodeConsumeStreamResponse],
  [ConsumeResponseSchema.typeName, decodeConsumeResponse],
]);
