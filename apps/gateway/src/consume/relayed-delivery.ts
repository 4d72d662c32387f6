import { create } from '@bufbuild/protobuf';
import { ConsumerServiceConsumeResponseSchema, type ConsumerServiceConsumeResponse, type ConsumeStreamResponse } from '@partq/proto';
import { wireBytesOf, withWireBytes } from '@partq/runtime';

/**
 * A replica's delivery (ConsumeStreamResponse) as the client's Consume answer. The two messages are
 * the same on the wire (`repeated ConsumedMessage messages = 1`, and nothing else), so the bytes the
 * replica sent go on to the client as they are, when the transport kept them: no encoding of every
 * message again on the gateway.
 */
export function relayedDelivery(delivery: ConsumeStreamResponse): ConsumerServiceConsumeResponse {
  const response = create(ConsumerServiceConsumeResponseSchema, { messages: delivery.messages });
  const bytes = wireBytesOf(delivery);
  return bytes === undefined ? response : withWireBytes(response, bytes);
}
