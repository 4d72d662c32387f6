// The protocol this package speaks, from its own copy of the generated code (scripts/sync-proto.js
// copies it from proto/ at build time), so the published package needs nothing of the monorepo.
export { ProducerService, SendRequestSchema, type SendRequest } from './gen/partq/v1/client_pb.js';
export { Acks } from './gen/partq/v1/types_pb.js';
