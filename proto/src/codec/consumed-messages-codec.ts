import type { ConsumedMessage, ConsumeResponse, ConsumeStreamResponse } from '../gen/partq/v1/replica_pb.js';
import { bytesFieldSize, tag, varintFieldSize, varintSize, WIRE_LEN, WIRE_VARINT, WireReader, writeBytesField, writeVarint, writeVarintField } from './wire.js';
import { WireFormatError } from './wire-format-error.js';

/** One record of a partition as a consumer receives it. */
export interface ConsumedRecord {
  offset: number;
  payload: Uint8Array;
  key?: Uint8Array | undefined;
  timestampMs: number;
}

/** A consume's answer: its messages, and the bytes of the response holding them (for withWireBytes). */
export interface EncodedConsumedMessages {
  messages: ConsumedMessage[];
  bytes: Uint8Array;
}

/** ConsumeResponse.messages and ConsumeStreamResponse.messages: both field 1. */
const TAG_MESSAGE = tag(1, WIRE_LEN);
const TAG_PARTITION_ID = tag(1, WIRE_VARINT);
const TAG_OFFSET = tag(2, WIRE_VARINT);
const TAG_PAYLOAD = tag(3, WIRE_LEN);
const TAG_KEY = tag(4, WIRE_LEN);
const TAG_TIMESTAMP = tag(5, WIRE_VARINT);

/**
 * Records of one partition as the `messages` of a ConsumeResponse or ConsumeStreamResponse (the
 * two are the same on the wire): the ConsumedMessage objects, and the response's bytes written by
 * hand into one buffer (for withWireBytes). Why: create() and toBinary() of protobuf-es cost the
 * replica 2–2.5 µs per message, about a third of its CPU per consumed message in batches of 500.
 * The bytes equal toBinary() of a response holding these messages (fields in number order, proto3
 * defaults left out, the optional key written whenever it is set).
 */
export function encodeConsumedMessages(partitionId: number, records: readonly ConsumedRecord[]): EncodedConsumedMessages {
  assertNonNegativeSafe(partitionId, 'partition id');
  const sizes = new Array<number>(records.length);
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    assertNonNegativeSafe(record.offset, 'offset');
    assertNonNegativeSafe(record.timestampMs, 'timestamp');
    let size = 0;
    if (partitionId !== 0) size += varintFieldSize(partitionId);
    if (record.offset !== 0) size += varintFieldSize(record.offset);
    if (record.payload.byteLength > 0) size += bytesFieldSize(record.payload.byteLength);
    if (record.key !== undefined) size += bytesFieldSize(record.key.byteLength);
    if (record.timestampMs !== 0) size += varintFieldSize(record.timestampMs);
    sizes[i] = size;
    total += 1 + varintSize(size) + size;
  }

  const bytes = Buffer.allocUnsafe(total);
  const messages = new Array<ConsumedMessage>(records.length);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    bytes[at++] = TAG_MESSAGE;
    at = writeVarint(bytes, at, sizes[i]!);
    const start = at;
    if (partitionId !== 0) at = writeVarintField(bytes, at, TAG_PARTITION_ID, partitionId);
    if (record.offset !== 0) at = writeVarintField(bytes, at, TAG_OFFSET, record.offset);
    if (record.payload.byteLength > 0) at = writeBytesField(bytes, at, TAG_PAYLOAD, record.payload);
    if (record.key !== undefined) at = writeBytesField(bytes, at, TAG_KEY, record.key);
    if (record.timestampMs !== 0) at = writeVarintField(bytes, at, TAG_TIMESTAMP, record.timestampMs);
    if (at - start !== sizes[i]) throw new Error(`consumed message codec: wrote ${at - start} bytes, sized ${sizes[i]}`);
    messages[i] = consumedMessage(partitionId, record);
  }
  return { messages, bytes };
}

function assertNonNegativeSafe(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${field} ${value} is not a non-negative safe integer`);
}

/** The message create(ConsumedMessageSchema, …) makes, without its reflection. */
function consumedMessage(partitionId: number, record: ConsumedRecord): ConsumedMessage {
  const message: ConsumedMessage = {
    $typeName: 'partq.v1.ConsumedMessage',
    partitionId,
    offset: BigInt(record.offset),
    payload: record.payload,
    timestampMs: BigInt(record.timestampMs),
  };
  if (record.key !== undefined) message.key = record.key;
  return message;
}

/** Every field of a ConsumedMessage was one this reader knows: else it gives up and protobuf-es reads the bytes. */
class UnknownField extends Error {}

/**
 * The `messages` of a ConsumeResponse or ConsumeStreamResponse (the same bytes), read by hand into
 * the objects fromBinary() makes, payloads and keys as views of `bytes`. Undefined when the bytes
 * hold what this reader does not take (an unknown field, a negative or unsafe int64, malformed
 * bytes): the caller then reads them with protobuf-es, which keeps unknown fields and reports
 * malformed bytes its own way.
 *
 * Why: fromBinary() of a consume answer costs 1.1-1.4 µs per message here, through reflection. The
 * gateway reads every delivery from its replica (~4 % of its CPU end to end, about a quarter on
 * the consume lines).
 */
export function decodeConsumedMessages(bytes: Uint8Array): ConsumedMessage[] | undefined {
  try {
    const reader = new WireReader(bytes);
    const messages: ConsumedMessage[] = [];
    while (!reader.done) {
      if (reader.tag() !== TAG_MESSAGE) throw new UnknownField();
      const start = reader.lengthDelimited();
      messages.push(readConsumedMessage(new WireReader(bytes, start, reader.pos)));
    }
    return messages;
  } catch (error) {
    if (error instanceof UnknownField || error instanceof WireFormatError) return undefined;
    throw error;
  }
}

/** A consume answer of this type read by hand (see decodeConsumedMessages), or undefined. */
function consumeAnswerDecoder<T extends ConsumeStreamResponse | ConsumeResponse>(typeName: T['$typeName']): (bytes: Uint8Array) => T | undefined {
  return (bytes) => {
    const messages = decodeConsumedMessages(bytes);
    return messages === undefined ? undefined : ({ $typeName: typeName, messages } as T);
  };
}

export const decodeConsumeStreamResponse = consumeAnswerDecoder<ConsumeStreamResponse>('partq.v1.ConsumeStreamResponse');
export const decodeConsumeResponse = consumeAnswerDecoder<ConsumeResponse>('partq.v1.ConsumeResponse');

function readConsumedMessage(reader: WireReader): ConsumedMessage {
  // proto3: a field left out is its zero value; a field written twice keeps its last value.
  const message: ConsumedMessage = { $typeName: 'partq.v1.ConsumedMessage', partitionId: 0, offset: 0n, payload: new Uint8Array(0), timestampMs: 0n };
  while (!reader.done) {
    switch (reader.tag()) {
      case TAG_PARTITION_ID:
        message.partitionId = reader.int32();
        break;
      case TAG_OFFSET:
        message.offset = BigInt(reader.uint());
        break;
      case TAG_PAYLOAD:
        message.payload = reader.bytesView();
        break;
      case TAG_KEY:
        message.key = reader.bytesView();
        break;
      case TAG_TIMESTAMP:
        message.timestampMs = BigInt(reader.uint());
        break;
      default:
        throw new UnknownField();
    }
  }
  return message;
}
