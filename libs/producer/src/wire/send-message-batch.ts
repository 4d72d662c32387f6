import { varintSize, writeBytesField, writeVarint } from '@partq/client-core';
import type { OutgoingMessage } from '../message.js';

/**
 * Writes a batch's messages as a partq.v1.SendMessageBatch (SendRequest.messages_data) by hand:
 * building a protobuf-es SendMessage per message and serialising it by reflection was most of this
 * client's CPU per message. The bytes equal toBinary(SendMessageBatchSchema, ...) of the same
 * messages; the gateway reads them with its own hand-written reader. The wire primitives are those
 * of proto/src/codec/wire.ts, through the copy @partq/client-core carries.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const TAG_MESSAGE = (1 << 3) | WIRE_LEN;
const TAG_PAYLOAD = (1 << 3) | WIRE_LEN;
const TAG_KEY = (2 << 3) | WIRE_LEN;
const TAG_PARTITION_ID = (3 << 3) | WIRE_VARINT;
const TAG_SEQUENCE = (4 << 3) | WIRE_VARINT;
const TAG_PREVIOUS_SEQUENCE = (5 << 3) | WIRE_VARINT;

/** A sequence, checked: the gateway reads sequences as non-negative safe integers. */
function checkedSequence(sequence: number | undefined): number | undefined {
  if (sequence === undefined) return undefined;
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw new RangeError(`sequence ${sequence} is not a non-negative safe integer`);
  return sequence;
}

/** Encodes messages (partitions validated by toOutgoingMessage: non-negative int32) as a SendMessageBatch. */
export function encodeSendMessageBatch(messages: readonly OutgoingMessage[]): Uint8Array {
  const layout = layoutSendMessageBatch(messages);
  const buffer = Buffer.allocUnsafe(layout.total);
  writeSendMessageBatch(buffer, 0, messages, layout);
  return buffer;
}

/** A SendMessageBatch measured before it is written: each message's body size and sequence, and the whole. */
export interface SendMessageBatchLayout {
  sizes: number[];
  sequences: (number | undefined)[];
  total: number;
}

export function layoutSendMessageBatch(messages: readonly OutgoingMessage[]): SendMessageBatchLayout {
  const sizes = new Array<number>(messages.length);
  const sequences = new Array<number | undefined>(messages.length);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const sequence = checkedSequence(message.sequence);
    let size = 0;
    if (message.payload.byteLength > 0) size += 1 + varintSize(message.payload.byteLength) + message.payload.byteLength;
    if (message.key !== undefined) size += 1 + varintSize(message.key.byteLength) + message.key.byteLength;
    if (message.partitionId !== undefined) size += 1 + varintSize(message.partitionId);
    if (sequence !== undefined) size += 1 + varintSize(sequence);
    const previous = checkedSequence(message.previousSequence);
    if (previous !== undefined) size += 1 + varintSize(previous);
    sizes[i] = size;
    sequences[i] = sequence;
    total += 1 + varintSize(size) + size;
  }
  return { sizes, sequences, total };
}

/** Writes the batch laid out by `layout` at `at`; returns the next position. */
export function writeSendMessageBatch(buffer: Uint8Array, at: number, messages: readonly OutgoingMessage[], layout: SendMessageBatchLayout): number {
  const end = at + layout.total;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    buffer[at++] = TAG_MESSAGE;
    at = writeVarint(buffer, at, layout.sizes[i]!);
    if (message.payload.byteLength > 0) at = writeBytesField(buffer, at, TAG_PAYLOAD, message.payload);
    if (message.key !== undefined) at = writeBytesField(buffer, at, TAG_KEY, message.key);
    if (message.partitionId !== undefined) {
      buffer[at++] = TAG_PARTITION_ID;
      at = writeVarint(buffer, at, message.partitionId);
    }
    const sequence = layout.sequences[i];
    if (sequence !== undefined) {
      buffer[at++] = TAG_SEQUENCE;
      at = writeVarint(buffer, at, sequence);
    }
    if (message.previousSequence !== undefined) {
      buffer[at++] = TAG_PREVIOUS_SEQUENCE;
      at = writeVarint(buffer, at, message.previousSequence);
    }
  }
  if (at !== end) throw new Error(`send message codec: wrote ${at - end + layout.total} bytes, sized ${layout.total}`);
  return at;
}
