// Hand-written codecs for the hot paths (stored records, record batches between roles).
export { WireFormatError, type WireFormatErrorCode } from './wire-format-error.js';
export { decodeRecord, encodeRecords, StoredRecords, type RecordFields } from './record-codec.js';
export { decodeRecordBatch, encodeRecordBatch, indexRecordBatch, type BatchRecord, type RecordBatchIndex } from './record-batch-codec.js';
export { decodeAppendRecordBatch, encodeAppendRecordBatch, type AppendBatchRecord } from './append-record-batch-codec.js';
export { decodeSendMessageBatch, type BatchSendMessage } from './send-message-batch-codec.js';
export { encodeGetUpdatesResponse, type PartitionUpdate } from './get-updates-response-codec.js';
export { decodePartitionOffsets, encodePartitionOffsets, type PartitionOffsetEntry } from './partition-offsets-codec.js';
export { encodeAppendRequest, type AppendTarget } from './append-request-codec.js';
export { encodeStoredRecordsAnswer, type StoredRecordsAnswerSchema } from './stored-records-answer-codec.js';
export {
  decodeConsumedMessages,
  decodeConsumeResponse,
  decodeConsumeStreamResponse,
  encodeConsumedMessages,
  type ConsumedRecord,
  type EncodedConsumedMessages,
} from './consumed-messages-codec.js';
export { decodeSendResponse, decodeSendStreamRequest, encodePackedSendAnswer, type PackedSendAnswer } from './send-stream-codec.js';
export { decodeAppendResponse, decodeAppendStreamRequest, encodeAppendAnswer } from './append-stream-codec.js';
export { WIRE_DECODERS, type WireDecoder } from './wire-decoders.js';
