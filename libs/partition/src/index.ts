export { isValidTopicName, MAX_TOPIC_NAME_LENGTH } from './topic-name.js';
export { isValidRetentionLimit } from './retention-limit.js';
export { murmur2, partitionForKey } from './hash.js';
export { choosePartition, type PartitionChoice } from './choose.js';
export {
  assignPartitions,
  rebalance,
  planDrain,
  partitionKey,
  AssignmentError,
  type TopicId,
  type PartitionPlacement,
  type PartitionMove,
} from './assign.js';
export {
  pendingCount,
  retentionStart,
  deletableCount,
  startOffset,
  isRetained,
  isFetchable,
  type StartPosition,
} from './offsets.js';
export { encodeSequenceRuns, decodeSequenceRuns, SEQUENCE_RUN_BYTES, type SequenceRun } from './sequence-runs.js';
export { PartitionMap } from './partition-map.js';
