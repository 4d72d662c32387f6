import type { Acks } from '../gen/partq/v1/types_pb.js';
import type { SendRequest, SendResponse, SendStreamRequest, SendStreamResponse } from '../gen/partq/v1/client_pb.js';
import { decodeMultiplexedCall, encodeMultiplexedAnswer, NotTaken, safeNumber } from './multiplexed-call-codec.js';
import { tag, varintSize, WIRE_LEN, WIRE_VARINT, type WireReader, writeVarint } from './wire.js';

/*
 * The calls and answers of ProducerService.SendStream, the stream @partq/producer sends every batch
 * on. Why by hand: fromBinary() of each call and create() + toBinary() of each answer went through
 * protobuf-es's reflection, ~8 % of the gateway's CPU at 2 000 msg/s (~20 µs a call), while the
 * batch inside (messages_data) already had a hand-written reader.
 */

const TAG_TOPIC = tag(1, WIRE_LEN);
const TAG_PRODUCER_ID = tag(2, WIRE_VARINT);
const TAG_ACKS = tag(4, WIRE_VARINT);
const TAG_MESSAGES_DATA = tag(5, WIRE_LEN);
const TAG_PARTITION_IDS = tag(2, WIRE_LEN);
const TAG_OFFSETS = tag(3, WIRE_LEN);
const TAG_DUPLICATE_INDEXES = tag(4, WIRE_LEN);
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

/**
 * A SendStreamRequest read by hand into the message fromBinary() makes, messages_data as a view of
 * `bytes`; undefined for what it does not take (see decodeMultiplexedCall), `messages` included
 * (the unpacked form other clients send).
 */
export function decodeSendStreamRequest(bytes: Uint8Array): SendStreamRequest | undefined {
  return decodeMultiplexedCall(bytes, { $typeName: 'partq.v1.SendStreamRequest', callId: 0n } as SendStreamRequest, readSendRequest);
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
  const offsets: number[] = [];
  for (const offset of answer.offsets) {
    const value = safeNumber(offset);
    if (value === undefined) return undefined;
    offsets.push(value);
  }
  if (!answer.partitionIds.every(isNonNegativeInt32) || !answer.duplicateIndexes.every(isNonNegativeInt32)) return undefined;
  const packedSize = (values: readonly number[]): number => values.reduce((sum, value) => sum + varintSize(value), 0);
  const fieldSize = (values: readonly number[]): number => (values.length === 0 ? 0 : 1 + varintSize(packedSize(values)) + packedSize(values));
  const writePacked = (bytes: Buffer, at: number, fieldTag: number, values: readonly number[]): number => {
    if (values.length === 0) return at;
    bytes[at++] = fieldTag;
    at = writeVarint(bytes, at, packedSize(values));
    for (const value of values) at = writeVarint(bytes, at, value);
    return at;
  };
  const bytes = encodeMultiplexedAnswer(answer.callId, fieldSize(answer.partitionIds) + fieldSize(offsets) + fieldSize(answer.duplicateIndexes), (out, at) => {
    at = writePacked(out, at, TAG_PARTITION_IDS, answer.partitionIds);
    at = writePacked(out, at, TAG_OFFSETS, offsets);
    return writePacked(out, at, TAG_DUPLICATE_INDEXES, answer.duplicateIndexes);
  });
  if (bytes === undefined) return undefined;
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
