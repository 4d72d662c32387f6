import type { AppendDuplicate, AppendRequest, AppendResponse, AppendStreamRequest, AppendStreamResponse } from '../gen/partq/v1/broker_pb.js';
import type { Acks } from '../gen/partq/v1/types_pb.js';
import { decodeMultiplexedCall, encodeMultiplexedAnswer, NotTaken, safeNumber, unlessDeclined } from './multiplexed-call-codec.js';
import { EMPTY_BYTES, tag, varintSize, WIRE_LEN, WIRE_VARINT, WireReader, writeVarint } from './wire.js';

/*
 * The calls and answers of BrokerService.AppendStream, the stream a gateway sends a broker every
 * Append of up to 64 KiB on, and the AppendResponse inside an answer. Why by hand: as for SendStream
 * (send-stream-codec.ts), protobuf-es read and wrote each of them by reflection, on both the
 * gateway and the broker, for every round of appends; the records inside (records_data) already had
 * hand-written codecs.
 */

const TAG_TOPIC_ID = tag(1, WIRE_VARINT);
const TAG_PARTITION_ID = tag(2, WIRE_VARINT);
const TAG_EPOCH = tag(3, WIRE_VARINT);
const TAG_ACKS = tag(4, WIRE_VARINT);
const TAG_RECORDS_DATA = tag(6, WIRE_LEN);
const TAG_BASE_OFFSET = tag(3, WIRE_VARINT);
const TAG_DUPLICATE = tag(4, WIRE_LEN);
const TAG_DUPLICATE_INDEX = tag(1, WIRE_VARINT);
const TAG_DUPLICATE_OFFSET = tag(2, WIRE_VARINT);

/**
 * An AppendStreamRequest read by hand into the message fromBinary() makes, records_data as a view
 * of `bytes`; undefined for what it does not take (see decodeMultiplexedCall), `records` included
 * (the unpacked form of older gateways).
 */
export function decodeAppendStreamRequest(bytes: Uint8Array): AppendStreamRequest | undefined {
  return decodeMultiplexedCall(bytes, { $typeName: 'partq.v1.AppendStreamRequest', callId: 0n } as AppendStreamRequest, readAppendRequest);
}

function readAppendRequest(reader: WireReader): AppendRequest {
  const request: AppendRequest = { $typeName: 'partq.v1.AppendRequest', topicId: 0, partitionId: 0, epoch: 0, acks: 0 as Acks, records: [], recordsData: EMPTY_BYTES };
  while (!reader.done) {
    switch (reader.tag()) {
      case TAG_TOPIC_ID:
        request.topicId = reader.int32();
        break;
      case TAG_PARTITION_ID:
        request.partitionId = reader.int32();
        break;
      case TAG_EPOCH:
        request.epoch = reader.int32();
        break;
      case TAG_ACKS:
        request.acks = reader.int32() as Acks;
        break;
      case TAG_RECORDS_DATA:
        request.recordsData = reader.bytesView();
        break;
      default:
        throw new NotTaken();
    }
  }
  return request;
}

/**
 * The AppendStreamResponse answering call `callId` with `baseOffset` and no duplicates (every
 * Append but an idempotent retry's), and its bytes written by hand: equal to toBinary() of that
 * message. Undefined for numbers beyond 2^53 or negative: protobuf-es then encodes the message.
 */
export function encodeAppendAnswer(callId: bigint, baseOffset: bigint): { message: AppendStreamResponse; bytes: Uint8Array } | undefined {
  const offset = safeNumber(baseOffset);
  if (offset === undefined) return undefined;
  const bytes = encodeMultiplexedAnswer(callId, offset === 0 ? 0 : 1 + varintSize(offset), (out, at) => {
    if (offset === 0) return at;
    out[at++] = TAG_BASE_OFFSET;
    return writeVarint(out, at, offset);
  });
  if (bytes === undefined) return undefined;
  const response: AppendResponse = { $typeName: 'partq.v1.AppendResponse', baseOffset, duplicates: [] };
  return { message: { $typeName: 'partq.v1.AppendStreamResponse', callId, outcome: { case: 'response', value: response } }, bytes };
}

/** An AppendResponse read by hand into the message fromBinary() makes; undefined for what it does not take. */
export function decodeAppendResponse(bytes: Uint8Array): AppendResponse | undefined {
  return unlessDeclined(() => {
    const reader = new WireReader(bytes);
    const response: AppendResponse = { $typeName: 'partq.v1.AppendResponse', baseOffset: 0n, duplicates: [] };
    while (!reader.done) {
      switch (reader.tag()) {
        case TAG_BASE_OFFSET:
          response.baseOffset = BigInt(reader.uint());
          break;
        case TAG_DUPLICATE: {
          const start = reader.lengthDelimited();
          response.duplicates.push(readDuplicate(new WireReader(bytes, start, reader.pos)));
          break;
        }
        default:
          throw new NotTaken();
      }
    }
    return response;
  });
}

function readDuplicate(reader: WireReader): AppendDuplicate {
  const duplicate: AppendDuplicate = { $typeName: 'partq.v1.AppendDuplicate', index: 0, offset: 0n };
  while (!reader.done) {
    switch (reader.tag()) {
      case TAG_DUPLICATE_INDEX:
        duplicate.index = reader.int32();
        break;
      case TAG_DUPLICATE_OFFSET:
        duplicate.offset = BigInt(reader.uint());
        break;
      default:
        throw new NotTaken();
    }
  }
  return duplicate;
}
