// The protocol the clients speak, from this package's own copy of the generated code
// (scripts/sync-proto.js copies it from proto/ at build time), so the published packages need
// nothing of the monorepo.
export {
  ConsumerService,
  ProducerService,
  SendMessageBatchSchema,
  SendRequestSchema,
  type ConsumerServiceCheckpointRequest,
  type ConsumerServiceConsumeRequest,
  type ConsumerServiceRegisterRequest,
  type ConsumerServiceReleaseRequest,
  type DequeueRequest,
  type SendRequest,
  type SendResponse,
} from './gen/partq/v1/client_pb.js';
export { ConsumedMessageSchema, type ConsumedMessage } from './gen/partq/v1/replica_pb.js';
export { Acks } from './gen/partq/v1/types_pb.js';
// Protobuf wire-format primitives of the hand-written codecs, from the same copy (proto/src/codec).
export { varintSize, writeBytesField, writeVarint } from './gen/codec/wire.js';
