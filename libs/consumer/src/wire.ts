// The protocol this package speaks, from its own copy of the generated code (scripts/sync-proto.js
// copies it from proto/ at build time), so the published package needs nothing of the monorepo.
export { ConsumerService, type ConsumerServiceRegisterRequest, type DequeueRequest } from './gen/partq/v1/client_pb.js';
export { ConsumedMessageSchema, type ConsumedMessage } from './gen/partq/v1/replica_pb.js';
