import { create } from '@bufbuild/protobuf';
import { partitionKey } from '@partq/cluster';
import {
  MetadataSchema,
  ReplicaSchema,
  WatchMetadataResponseSchema,
  type Metadata,
  type WatchMetadataResponse,
} from '@partq/proto';
import type { BrokerRow, ConsumerRow, PartitionRow, ProducerRow, TopicRow } from '@partq/schema';
import { AsyncQueue } from './async-queue.js';
import { MetadataVersion } from './metadata-version.js';
import { brokerToProto, consumerToProto, partitionToProto, producerToProto, topicToProto } from './to-proto.js';

export interface ReplicaEntry {
  id: number;
  address: string;
  lastHeartbeat: Date;
}

export interface MetadataChange {
  topics?: TopicRow[];
  partitions?: PartitionRow[];
  brokers?: BrokerRow[];
  replicas?: ReplicaEntry[];
  producers?: ProducerRow[];
  consumers?: ConsumerRow[];
  /** Ids of producers and consumers removed (expired). */
  removedProducers?: number[];
  removedConsumers?: number[];
}

/**
 * The manager's authoritative in-memory copy of the cluster metadata (PostgreSQL is the
 * durable one). Every change goes to the database first, then here through `apply`,
 * which stamps a new version and streams the change to every watcher.
 */
export class ClusterState {
  readonly topics = new Map<number, TopicRow>();
  readonly topicsByName = new Map<string, TopicRow>();
  readonly partitions = new Map<string, PartitionRow>();
  readonly brokers = new Map<number, BrokerRow>();
  readonly replicas = new Map<number, ReplicaEntry>();
  readonly producers = new Map<number, ProducerRow>();
  readonly consumers = new Map<number, ConsumerRow>();
  /** Partitions being moved to another broker: their owner refuses appends until the move ends. */
  readonly moving = new Set<string>();
  /** End offsets the owners reported in their last heartbeat (for the sync-lag metric). */
  readonly reportedEnds = new Map<string, number>();
  private readonly version = new MetadataVersion();
  private readonly watchers = new Set<AsyncQueue<WatchMetadataResponse>>();

  get currentVersion(): number {
    return this.version.current;
  }

  partition(topicId: number, partitionId: number): PartitionRow | undefined {
    return this.partitions.get(partitionKey(topicId, partitionId));
  }

  partitionsOf(topicId: number): PartitionRow[] {
    const topic = this.topics.get(topicId);
    if (!topic) return [];
    const rows: PartitionRow[] = [];
    for (let p = 0; p < topic.partition_count; p++) {
      const row = this.partition(topicId, p);
      if (row) rows.push(row);
    }
    return rows;
  }

  partitionsOwnedBy(brokerId: number): PartitionRow[] {
    return [...this.partitions.values()].filter((p) => p.broker_id === brokerId);
  }

  aliveBrokerIds(): number[] {
    return [...this.brokers.values()].filter((b) => b.state === 'alive').map((b) => b.id).sort((a, b) => a - b);
  }

  /** Records a change (already durable in PostgreSQL) and streams it; returns the new version. */
  apply(change: MetadataChange): number {
    for (const topic of change.topics ?? []) {
      this.topics.set(topic.id, topic);
      this.topicsByName.set(topic.name, topic);
    }
    for (const partition of change.partitions ?? []) this.partitions.set(partitionKey(partition.topic_id, partition.partition_id), partition);
    for (const broker of change.brokers ?? []) this.brokers.set(broker.id, broker);
    for (const replica of change.replicas ?? []) this.replicas.set(replica.id, replica);
    for (const producer of change.producers ?? []) this.producers.set(producer.id, producer);
    for (const consumer of change.consumers ?? []) this.consumers.set(consumer.id, consumer);
    for (const id of change.removedProducers ?? []) this.producers.delete(id);
    for (const id of change.removedConsumers ?? []) this.consumers.delete(id);
    const version = this.version.next();
    const update = create(WatchMetadataResponseSchema, { snapshot: false, version: BigInt(version), metadata: this.toProto(change) });
    for (const watcher of this.watchers) watcher.push(update);
    return version;
  }

  snapshot(): Metadata {
    return this.toProto({
      topics: [...this.topics.values()],
      partitions: [...this.partitions.values()],
      brokers: [...this.brokers.values()],
      replicas: [...this.replicas.values()],
      producers: [...this.producers.values()],
      consumers: [...this.consumers.values()],
    });
  }

  /** The snapshot, then every change, until the signal aborts. */
  async *watch(signal: AbortSignal): AsyncGenerator<WatchMetadataResponse> {
    const queue = new AsyncQueue<WatchMetadataResponse>();
    const stop = (): void => queue.close();
    this.watchers.add(queue);
    signal.addEventListener('abort', stop, { once: true });
    try {
      yield create(WatchMetadataResponseSchema, { snapshot: true, version: BigInt(this.version.current), metadata: this.snapshot() });
      for await (const update of queue) yield update;
    } finally {
      signal.removeEventListener('abort', stop);
      this.watchers.delete(queue);
    }
  }

  /** Ends every watch stream (shutdown). */
  closeWatchers(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers.clear();
  }

  private toProto(change: MetadataChange): Metadata {
    return create(MetadataSchema, {
      topics: (change.topics ?? []).map(topicToProto),
      partitions: (change.partitions ?? []).map(partitionToProto),
      brokers: (change.brokers ?? []).map(brokerToProto),
      replicas: (change.replicas ?? []).map((r) =>
        create(ReplicaSchema, { id: r.id, address: r.address, lastHeartbeatMs: BigInt(r.lastHeartbeat.getTime()) }),
      ),
      producers: (change.producers ?? []).map(producerToProto),
      consumers: (change.consumers ?? []).map(consumerToProto),
      removedProducerIds: change.removedProducers ?? [],
      removedConsumerIds: change.removedConsumers ?? [],
    });
  }
}
