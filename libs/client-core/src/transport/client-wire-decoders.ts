import { decodeConsumedMessages } from '../gen/codec/consumed-messages-codec.js';
import { decodeSendResponse } from '../gen/codec/send-stream-codec.js';
import { ConsumerServiceConsumeResponseSchema, SendResponseSchema, type ConsumerServiceConsumeResponse } from '../gen/partq/v1/client_pb.js';
import type { WireDecoder, WireDecoders } from './answer-decoding.js';

/**
 * The answers the clients read by hand, by message type name (see createLeanUnaryTransport's
 * `decoders`): a consumer's deliveries, whose messages fromBinary() reads through reflection at
 * ~1.1–1.9 µs each, the largest share of a consumer's CPU per message in batches of 500, and a
 * producer's send answers (an offset per message). The codecs are the ones the roles use
 * (proto/src/codec, copied here by scripts/sync-proto.js).
 */
export const CLIENT_WIRE_DECODERS: WireDecoders = new Map<string, WireDecoder>([
  [
    ConsumerServiceConsumeResponseSchema.typeName,
    (bytes: Uint8Array): ConsumerServiceConsumeResponse | undefined => {
      const messages = decodeConsumedMessages(bytes);
      return messages === undefined ? undefined : { $typeName: ConsumerServiceConsumeResponseSchema.typeName, messages };
    },
  ],
  [SendResponseSchema.typeName, decodeSendResponse],
]);
