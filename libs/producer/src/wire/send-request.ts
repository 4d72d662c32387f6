import { create } from '@bufbuild/protobuf';
import { SendRequestSchema, varintSize, writeBytesField, writeVarint, type Acks, type SendRequest } from '@partq/client-core';
import type { OutgoingMessage } from '../message.js';
import { layoutSendMessageBatch, writeSendMessageBatch } from './send-message-batch.js';

/** Where a batch goes: everything of a SendRequest but its messages. */
export interface SendTarget {
  topic: string;
  producerId: number;
  acks: Acks;
}

const TAG_TOPIC = (1 << 3) | 2;
const TAG_PRODUCER_ID = (2 << 3) | 0;
const TAG_ACKS = (4 << 3) | 0;
const TAG_MESSAGES_DATA = (5 << 3) | 2;

/**
 * A SendRequest written by hand into one buffer (each payload copied once, as messages_data), and
 * the same request as a message whose messages_data is a view into it, for withWireBytes. Before,
 * protobuf-es copied the whole batch again into a zero-filled buffer on every Send. The bytes equal
 * toBinary(SendRequestSchema, ...) of the message. `producerId` and `acks` are non-negative (a
 * registered id, an enum value). `allocate` gives the buffer (RequestBuffers.take, say).
 */
export function encodeSendRequest(
  target: SendTarget,
  messages: readonly OutgoingMessage[],
  allocate: (size: number) => Buffer = Buffer.allocUnsafe,
): { bytes: Uint8Array; request: SendRequest } {
  if (!Number.isInteger(target.producerId) || target.producerId < 0 || !Number.isInteger(target.acks) || target.acks < 0) {
    throw new RangeError(`send request: producer id ${target.producerId} and acks ${target.acks} must be non-negative integers`);
  }
  const topic = Buffer.from(target.topic, 'utf8');
  const layout = layoutSendMessageBatch(messages);
  let total = 0;
  if (topic.byteLength > 0) total += 1 + varintSize(topic.byteLength) + topic.byteLength;
  if (target.producerId !== 0) total += 1 + varintSize(target.producerId);
  if (target.acks !== 0) total += 1 + varintSize(target.acks);
  if (layout.total > 0) total += 1 + varintSize(layout.total) + layout.total;

  const bytes = allocate(total);
  let at = 0;
  if (topic.byteLength > 0) at = writeBytesField(bytes, at, TAG_TOPIC, topic);
  if (target.producerId !== 0) {
    bytes[at++] = TAG_PRODUCER_ID;
    at = writeVarint(bytes, at, target.producerId);
  }
  if (target.acks !== 0) {
    bytes[at++] = TAG_ACKS;
    at = writeVarint(bytes, at, target.acks);
  }
  let dataStart = at;
  if (layout.total > 0) {
    bytes[at++] = TAG_MESSAGES_DATA;
    at = writeVarint(bytes, at, layout.total);
    dataStart = at;
    at = writeSendMessageBatch(bytes, at, messages, layout);
  }
  const request = create(SendRequestSchema, { ...target, messagesData: bytes.subarray(dataStart, at) });
  return { bytes, request };
}
