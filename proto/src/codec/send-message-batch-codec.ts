import { EMPTY_BYTES, expectWireType, tag, WIRE_LEN, WIRE_VARINT, WireReader } from './wire.js';

/**
 * Reads a SendMessageBatch (SendRequest.messages_data, written by hand by @partq/producer) without
 * building a SendMessage object per message; payloads and keys are views into the request.
 */

/** A message read out of a batch. */
export interface BatchSendMessage {
  payload: Uint8Array;
  key?: Uint8Array;
  partitionId?: number;
  sequence?: bigint;
  previousSequence?: bigint;
}

const TAG_MESSAGE = tag(1, WIRE_LEN);
const FIELD_PAYLOAD = 1;
const FIELD_KEY = 2;
const FIELD_PARTITION_ID = 3;
const FIELD_SEQUENCE = 4;
const FIELD_PREVIOUS_SEQUENCE = 5;

/**
 * Every message of a SendMessageBatch. Unknown fields are skipped; anything malformed, or a
 * sequence that is negative or beyond 2^53, throws WireFormatError.
 */
export function decodeSendMessageBatch(data: Uint8Array): BatchSendMessage[] {
  const messages: BatchSendMessage[] = [];
  const outer = new WireReader(data);
  // One reader for every message: the gateway reads each message a producer sends.
  const inner = new WireReader(data);
  while (!outer.done) {
    const fieldTag = outer.tag();
    if (fieldTag !== TAG_MESSAGE) {
      outer.skip(fieldTag & 7);
      continue;
    }
    const start = outer.lengthDelimited();
    messages.push(readMessage(inner.reset(start, outer.pos)));
  }
  return messages;
}

function readMessage(reader: WireReader): BatchSendMessage {
  // Every field from the start: the ones read later then neither reshape the object nor grow a
  // property store for it (one shape for every message).
  const message: BatchSendMessage = { payload: EMPTY_BYTES, key: undefined, partitionId: undefined, sequence: undefined, previousSequence: undefined };
  while (!reader.done) {
    const fieldTag = reader.tag();
    switch (fieldTag >>> 3) {
      case FIELD_PAYLOAD:
        expectWireType(fieldTag, WIRE_LEN, 'SendMessage.payload');
        message.payload = reader.bytesView();
        break;
      case FIELD_KEY:
        expectWireType(fieldTag, WIRE_LEN, 'SendMessage.key');
        message.key = reader.bytesView();
        break;
      case FIELD_PARTITION_ID:
        expectWireType(fieldTag, WIRE_VARINT, 'SendMessage.partition_id');
        message.partitionId = reader.int32();
        break;
      case FIELD_SEQUENCE:
        expectWireType(fieldTag, WIRE_VARINT, 'SendMessage.sequence');
        message.sequence = BigInt(reader.uint());
        break;
      case FIELD_PREVIOUS_SEQUENCE:
        expectWireType(fieldTag, WIRE_VARINT, 'SendMessage.previous_sequence');
        message.previousSequence = BigInt(reader.uint());
        break;
      default:
        reader.skip(fieldTag & 7);
    }
  }
  return message;
}
