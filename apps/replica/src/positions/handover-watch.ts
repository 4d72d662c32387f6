import type { MetadataView } from '@partq/cluster';
import type { PositionStore } from './position-store.js';

/**
 * Drops the cached positions of a topic's consumers when one of its partitions moves to a new
 * epoch. When a dead owner's partition is handed over, the manager moves positions past the high
 * watermark back to it in the database (the new owner reuses those offsets); a replica reading on
 * from a cached position would wait past the new owner's records instead of delivering them.
 * Returns a function that stops watching.
 */
export function watchHandovers(view: MetadataView, positions: PositionStore): () => void {
  const epochs = new Map<string, number>();
  const onChange = (): void => {
    const moved = new Set<number>();
    for (const topic of view.topics()) {
      for (const partition of view.partitionsOf(topic.id)) {
        const key = `${partition.topicId}/${partition.partitionId}`;
        const known = epochs.get(key);
        if (known !== undefined && partition.epoch > known) moved.add(partition.topicId);
        if (known === undefined || partition.epoch > known) epochs.set(key, partition.epoch);
      }
    }
    if (moved.size > 0) positions.forgetIf((consumerId) => moved.has(view.consumer(consumerId)?.topicId ?? -1));
  };
  onChange();
  view.on('change', onChange);
  return () => view.off('change', onChange);
}
