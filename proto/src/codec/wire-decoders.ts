import { AppendResponseSchema, AppendStreamRequestSchema, FetchResponseSchema, TailResponseSchema } from '../gen/partq/v1/broker_pb.js';
import { SendStreamRequestSchema } from '../gen/partq/v1/client_pb.js';
import { ConsumeResponseSchema, ConsumeStreamResponseSchema } from '../gen/partq/v1/replica_pb.js';
import { decodeAppendResponse, decodeAppendStreamRequest } from './append-stream-codec.js';
import { decodeConsumeResponse, decodeConsumeStreamResponse } from './consumed-messages-codec.js';
import { decodeSendStreamRequest } from './send-stream-codec.js';
import { decodeFetchResponse, decodeTailResponse } from './stored-records-answer-codec.js';

/** Reads one message's bytes by hand, or answers undefined to leave them to protobuf-es. */
export type WireDecoder = (bytes: Uint8Array) => { $typeName: string } | undefined;

/**
 * The messages the roles read by hand, by message type name: what a transport between roles
 * consults for answers (see createLeanUnaryTransport's `decoders`) and the lean server handlers for
 * requests, before protobuf-es's fromBinary.
 */
export const WIRE_DECODERS: ReadonlyMap<string, WireDecoder> = new Map<string, WireDecoder>([
  [ConsumeStreamResponseSchema.typeName, decodeConsumeStreamResponse],
  [ConsumeResponseSchema.typeName, decodeConsumeResponse],
  [SendStreamRequestSchema.typeName, decodeSendStreamRequest],
  [AppendStreamRequestSchema.typeName, decodeAppendStreamRequest],
  [AppendResponseSchema.typeName, decodeAppendResponse],
  [FetchResponseSchema.typeName, decodeFetchResponse],
  [TailResponseSchema.typeName, decodeTailResponse],
]);
