import type { Acks } from '../gen/partq/v1/types_pb.js';
import type { SendRequest, SendResponse, SendStreamRequest, SendStreamResponse } from '../gen/partq/v1/client_pb.js';
import { decodeMultiplexedCall, encodeMultiplexedAnswer, NotTaken, safeNumber, unlessDeclined } from './multiplexed-call-codec.js';
import { EMPTY_BYTES, tag, varintSize, WIRE_LEN, WIRE_VARINT, WireReader, writeVarint } from './wire.js';

/*
 * The calls and answers of ProducerService.SendStream, the stream @partq/producer sends every batch
 * on, and the SendResponse inside an answer. Why by hand: fromBinary() of each call and create() +
 * toBinary() of each answer went through protobuf-es's reflection, ~8 % of the gateway's CPU at
 * 2 000 msg/s (~20 µs a call), while the batch inside (messages_data) already had a hand-written
 * reader; the producer read each answer's offsets by reflection too, one BigInt at a time.
 */

const TAG_TOPIC = tag(1, WIRE_LEN);
const TAG_PRODUCER_ID = tag(2, WIRE_VARINT);
const TAG_ACKS = tag(4, WIRE_VARINT);
const TAG_MESSAGES_DATA = tag(5, WIRE_LEN);
const FIELD_PARTITION_IDS = 2;
const FIELD_OFFSETS = 3;
const FIELD_DUPLICATE_INDEXES = 4;
const TAG_PARTITION_IDS = tag(FIELD_PARTITION_IDS, WIRE_LEN);
const TAG_OFFSETS = tag(FIELD_OFFSETS, WIRE_LEN);
const TAG_DUPLICATE_INDEXES = tag(FIELD_DUPLICATE_INDEXES, WIRE_LEN);
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
  const request: SendRequest = { $typeName: 'partq.v1.SendRequest', topic: '', producerId: 0, messages: [], acks: 0 as Acks, messagesData: EMPTY_BYTES };
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
  // The packed fields that are not empty (proto3 leaves those out), each sized once.
  const fields = (
    [
      [TAG_PARTITION_IDS, answer.partitionIds],
      [TAG_OFFSETS, offsets],
      [TAG_DUPLICATE_INDEXES, answer.duplicateIndexes],
    ] as const
  )
    .filter(([, values]) => values.length > 0)
    .map(([fieldTag, values]) => ({ fieldTag, values, size: values.reduce((sum, value) => sum + varintSize(value), 0) }));
  const responseSize = fields.reduce((sum, field) => sum + 1 + varintSize(field.size) + field.size, 0);
  const bytes = encodeMultiplexedAnswer(answer.callId, responseSize, (out, at) => {
    for (const { fieldTag, values, size } of fields) {
      out[at++] = fieldTag;
      at = writeVarint(out, at, size);
      for (const value of values) at = writeVarint(out, at, value);
    }
    return at;
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

/**
 * A SendResponse read by hand into the message fromBinary() makes: the packed answer of a
 * messages_data call (its repeated fields packed or not, as a protobuf reader must take both).
 * Undefined for what it does not take: `results` (the answer to SendMessage objects), an unknown
 * field, an offset beyond 2^53 or negative, malformed bytes.
 */
export function decodeSendResponse(bytes: Uint8Array): SendResponse | undefined {
  return unlessDeclined(() => {
    const reader = new WireReader(bytes);
    const response: SendResponse = { $typeName: 'partq.v1.SendResponse', results: [], partitionIds: [], offsets: [], duplicateIndexes: [] };
    const readValue = (field: number, values: WireReader): void => {
      if (field === FIELD_PARTITION_IDS) response.partitionIds.push(values.int32());
      else if (field === FIELD_OFFSETS) response.offsets.push(BigInt(values.uint()));
      else if (field === FIELD_DUPLICATE_INDEXES) response.duplicateIndexes.push(values.int32());
      else throw new NotTaken();
    };
    while (!reader.done) {
      const fieldTag = reader.tag();
      const field = fieldTag >>> 3;
      if ((fieldTag & 7) === WIRE_VARINT) {
        readValue(field, reader);
      } else if ((fieldTag & 7) === WIRE_LEN) {
        // A packed run of values.
        const start = reader.lengthDelimited();
        const values = new WireReader(bytes, start, reader.pos);
        while (!values.done) readValue(field, values);
      } else {
        throw new NotTaken();
      }
    }
    return response;
  });
}
