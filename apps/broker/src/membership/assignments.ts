import { create } from '@bufbuild/protobuf';
import { PartitionOffsetSchema, type PartitionAssignment, type PartitionOffset } from '@partq/proto';
import type { PartitionEndOffset, StoreAssignment } from '../log/partition-store.js';

/** The manager's assignments with offsets as numbers (int64 is bigint on the wire). */
export function toStoreAssignments(assignments: readonly PartitionAssignment[]): StoreAssignment[] {
  return assignments.map((a) => ({
    topicId: a.topicId,
    partitionId: a.partitionId,
    epoch: a.epoch,
    startOffset: Number(a.startOffset),
    highWatermark: Number(a.highWatermark),
    fenced: a.fenced,
  }));
}

export function toPartitionOffsets(offsets: readonly PartitionEndOffset[]): PartitionOffset[] {
  return offsets.map((o) =>
    create(PartitionOffsetSchema, { topicId: o.topicId, partitionId: o.partitionId, offset: BigInt(o.offset) }),
  );
}
