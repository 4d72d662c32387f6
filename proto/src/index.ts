// Generated protobuf-es messages and Connect service descriptors for partq.v1, and the hand-written codecs of the hot paths.
export * from './gen/partq/v1/types_pb.js';
export * from './gen/partq/v1/manager_pb.js';
export * from './gen/partq/v1/broker_pb.js';
export * from './gen/partq/v1/replica_pb.js';
export * from './gen/partq/v1/client_pb.js';
export * from './codec/index.js';
