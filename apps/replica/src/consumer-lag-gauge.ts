import type { MetadataView } from '@partq/cluster';
import { Gauge, type Registry } from 'prom-client';
import type { EndOffsets } from './fetch/end-offsets.js';
import type { PositionStore } from './positions/position-store.js';

/** Consumers reported per scrape at most: lag is per consumer and partition, so cardinality is bounded. */
const MAX_REPORTED_CONSUMERS = 500;

/**
 * partq_replica_consumer_lag{consumer,topic,partition}: messages still pending for the consumers
 * this replica serves (those in its position cache), computed at scrape time from the owners'
 * end offsets.
 */
export function registerConsumerLagGauge(registry: Registry, view: MetadataView, positions: PositionStore, endOffsets: EndOffsets): void {
  new Gauge({
    name: 'partq_replica_consumer_lag',
    help: 'Messages pending for a consumer in a partition (consumers served by this replica)',
    labelNames: ['consumer', 'topic', 'partition'],
    registers: [registry],
    async collect() {
      this.reset();
      let reported = 0;
      for (const [consumerId, byPartition] of positions.cached()) {
        if (reported++ >= MAX_REPORTED_CONSUMERS) break;
        const consumer = view.consumer(consumerId);
        const topic = consumer && view.topicById(consumer.topicId);
        if (!topic) continue;
        const partitions = view.partitionsOf(topic.id).filter((p) => byPartition.has(p.partitionId));
        const ends = await endOffsets.of(partitions).catch(() => new Map<number, number>());
        for (const partition of partitions) {
          const end = ends.get(partition.partitionId) ?? Number(partition.highWatermark);
          const lag = Math.max(0, end - byPartition.get(partition.partitionId)!);
          this.set({ consumer: String(consumerId), topic: topic.name, partition: String(partition.partitionId) }, lag);
        }
      }
    },
  });
}
