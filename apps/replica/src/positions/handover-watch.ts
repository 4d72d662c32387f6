import type { MetadataView } from '@partq/cluster';
import { PartitionMap } from '@partq/partition';
import type { PositionStore } from './position-store.js';

/**
 * Drops the cached positions of a topic's consumers when one of its partitions moves to a new
 * epoch. When a dead owner's partition is handed over, the manager moves positions past the high
 * watermark back to it in the database (the new owner reuses those offsets); a replica reading on
 * from a cached position would wait past the new owner's records instead of delivering them.
 * Returns a function that stops watching.
 *
 * It looks at the partitions only when owners changed (MetadataView.ownersVersion): most changes
 * move high watermarks, one per sync the manager commits, and going over every partition of every
 * topic at each of them was ~3 % of a replica's CPU with a few thousand partitions.
 */
export function watchHandovers(view: MetadataView, positions: Pick<PositionStore, 'forgetIf'>): () => void {
  const epochs = new PartitionMap<number>();
  let ownersSeen: number | undefined;
  const onChange = (): void => {
    if (view.ownersVersion === ownersSeen) return;
    ownersSeen = view.ownersVersion;
    const moved = new Set<number>();
    for (const topic of view.topics()) {
      for (const partition of view.partitionsOf(topic.id)) {
        const known = epochs.get(partition.topicId, partition.partitionId);
        if (known !== undefined && partition.epoch > known) moved.add(partition.topicId);
        if (known === undefined || partition.epoch > known) epochs.set(partition.topicId, partition.partitionId, partition.epoch);
      }
    }
    if (moved.size > 0) positions.forgetIf((consumerId) => moved.has(view.consumer(consumerId)?.topicId ?? -1));
  };
  onChange();
  view.on('change', onChange);
  return () => view.off('change', onChange);
}
