import type { Acks } from '../gen/partq/v1/types_pb.js';
import type { SendRequest, SendResponse, SendStreamRequest, SendStreamResponse } from '../gen/partq/v1/client_pb.js';
import { tag, varintSize, WIRE_LEN, WIRE_VARINT, WireReader, writeVarint } from './wire.js';
import { WireFormatError } from './wire-format-error.js';

/*
 * The calls and answers of ProducerService.SendStream, the stream @partq/producer sends every batch
 * on. Why by hand: fromBinary() of each call and create() + toBinary() of each answer went through
 * protobuf-es's reflection, ~8 % of the gateway's CPU at 2 000 msg/s (~20 µs a call), while the
 * batch inside (messages_data) already had a hand-written reader.
 */

const TAG_CALL_ID = tag(1, WIRE_VARINT);
const TAG_REQUEST = tag(2, WIRE_LEN);
const TAG_RESPONSE = tag(2, WIRE_LEN);
const TAG_TOPIC = tag(1, WIRE_LEN);
const TAG_PRODUCER_ID = tag(2, WIRE_VARINT);
const TAG_ACKS = tag(4, WIRE_VARINT);
const TAG_MESSAGES_DATA = tag(5, WIRE_LEN);
const TAG_PARTITION_IDS = tag(2, WIRE_LEN);
const TAG_OFFSETS = tag(3, WIRE_LEN);
const TAG_DUPLICATE_INDEXES = tag(4, WIRE_LEN);
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

/** Something this reader leaves to protobuf-es (which keeps unknown fields and reports malformed bytes its own way). */
class NotTaken extends Error {}

/**
 * A SendStreamRequest read by hand into the message fromBinary() makes, messages_data as a view of
 * `bytes`; undefined for what it does not take: an unknown field, `messages` (the unpacked form
 * other clients send), a field given twice where protobuf would merge, a call id beyond 2^53, or
 * malformed bytes.
 */
export function decodeSendStreamRequest(bytes: Uint8Array): SendStreamRequest | undefined {
  try {
    const reader = new WireReader(bytes);
    const call: SendStreamRequest = { $typeName: 'partq.v1.SendStreamRequest', callId: 0n };
    while (!reader.done) {
      switch (reader.tag()) {
        case TAG_CALL_ID:
          call.callId = BigInt(reader.uint());
          break;
        case TAG_REQUEST: {
          if (call.request !== undefined) throw new NotTaken();
          const start = reader.lengthDelimited();
          call.request = readSendRequest(new WireReader(bytes, start, reader.pos));
          break;
        }
        default:
          throw new NotTaken();
      }
    }
    return call;
  } catch (error) {
    if (error instanceof NotTaken || error instanceof WireFormatError) return undefined;
    throw error;
  }
}

function readSendRequest(reader: WireReader): SendRequest {
  const request: SendRequest = { $typeName: 'partq.v1.SendRequest', topic: '', producerId: 0, messages: [], acks: 0 as Acks, messagesData: EMPTY };
  while (!reader.done) {
    switch (reader.tag()) {
      case TAG_TOPIC:
        request.topic = utf8.decode(reader.bytesView());
        break;
      case TAG_PRODUCER_ID:
        request.producerId = reader.int32();
        break;
      case TAG_ACKS:
        request.acks = reader.int32() as Acks;
        break;
      case TAG_MESSAGES_DATA:
        request.messagesData = reader.bytesView();
        break;
      default:
        throw new NotTaken();
    }
  }
  return request;
}

/** A SendStream answer to write by hand: a call's packed SendResponse (what a messages_data call gets). */
export interface PackedSendAnswer {
  callId: bigint;
  partitionIds: readonly number[];
  offsets: readonly bigint[];
  duplicateIndexes: readonly number[];
}

/**
 * The SendStreamResponse of `answer`, and its bytes written by hand: equal to toBinary() of that
 * message (fields in number order, packed repeated fields, empty ones left out). Undefined when a
 * number is out of what is written here (a negative or unsafe value): the caller then lets
 * protobuf-es encode the message.
 */
export function encodePackedSendAnswer(answer: PackedSendAnswer): { message: SendStreamResponse; bytes: Uint8Array } | undefined {
  const callId = safe(answer.callId);
  const offsets = answer.offsets.map(safe);
  if (callId === undefined || offsets.some((offset) => offset === undefined)) return undefined;
  if (!answer.partitionIds.every(isNonNegativeInt32) || !answer.duplicateIndexes.every(isNonNegativeInt32)) return undefined;
  const packedSize = (values: readonly number[]): number => values.reduce((sum, value) => sum + varintSize(value), 0);
  const fieldSize = (values: readonly number[]): number => (values.length === 0 ? 0 : 1 + varintSize(packedSize(values)) + packedSize(values));
  const responseSize = fieldSize(answer.partitionIds) + fieldSize(offsets as number[]) + fieldSize(answer.duplicateIndexes);
  const total = (callId === 0 ? 0 : 1 + varintSize(callId)) + 1 + varintSize(responseSize) + responseSize;

  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  if (callId !== 0) {
    bytes[at++] = TAG_CALL_ID;
    at = writeVarint(bytes, at, callId);
  }
  bytes[at++] = TAG_RESPONSE;
  at = writeVarint(bytes, at, responseSize);
  const writePacked = (fieldTag: number, values: readonly number[]): void => {
    if (values.length === 0) return;
    bytes[at++] = fieldTag;
    at = writeVarint(bytes, at, packedSize(values));
    for (const value of values) at = writeVarint(bytes, at, value);
  };
  writePacked(TAG_PARTITION_IDS, answer.partitionIds);
  writePacked(TAG_OFFSETS, offsets as number[]);
  writePacked(TAG_DUPLICATE_INDEXES, answer.duplicateIndexes);
  if (at !== total) throw new Error(`send stream codec: wrote ${at} bytes, sized ${total}`);

  const response: SendResponse = {
    $typeName: 'partq.v1.SendResponse',
    results: [],
    partitionIds: [...answer.partitionIds],
    offsets: [...answer.offsets],
    duplicateIndexes: [...answer.duplicateIndexes],
  };
  return { message: { $typeName: 'partq.v1.SendStreamResponse', callId: answer.callId, outcome: { case: 'response', value: response } }, bytes };
}

function isNonNegativeInt32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0x7fffffff;
}

function safe(value: bigint): number | undefined {
  return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}
