import { EventEmitter } from 'node:events';
import {
  BrokerState,
  type Broker,
  type Consumer,
  type Metadata,
  type Partition,
  type Producer,
  type Replica,
  type Topic,
} from '@partq/proto';
import { PartitionMap } from '@partq/partition';

/**
 * A role's in-memory copy of the cluster metadata, kept current by the manager's
 * WatchMetadata stream (see MetadataWatcher). Reads are synchronous map lookups, so
 * the hot paths (produce, consume) never wait on the manager.
 */
export class MetadataView extends EventEmitter<{ change: [version: number] }> {
  private readonly topicsById = new Map<number, Topic>();
  private readonly topicsByName = new Map<string, Topic>();
  private readonly partitionsById = new PartitionMap<Partition>();
  private readonly brokersById = new Map<number, Broker>();
  private readonly replicasById = new Map<number, Replica>();
  private readonly producersById = new Map<number, Producer>();
  private readonly consumersById = new Map<number, Consumer>();
  private currentVersion = -1;
  private ownersChanged = 0;

  /** -1 until the first snapshot arrived. */
  get version(): number {
    return this.currentVersion;
  }

  get ready(): boolean {
    return this.currentVersion >= 0;
  }

  /**
   * Grows whenever a partition appears or changes owner or epoch, or a broker appears or changes
   * state or address. Most changes only move high watermarks (every sync the manager commits); a
   * watcher of owners compares this number instead of looking at each of its partitions then.
   */
  get ownersVersion(): number {
    return this.ownersChanged;
  }

  /** Apply a snapshot (replaces everything) or a delta (upserts, and drops what it removes). */
  apply(metadata: Metadata | undefined, version: number, snapshot: boolean): void {
    if (snapshot) this.clear();
    if (metadata) {
      this.upsert(metadata);
      for (const id of metadata.removedProducerIds) this.producersById.delete(id);
      for (const id of metadata.removedConsumerIds) this.consumersById.delete(id);
    }
    this.currentVersion = Math.max(this.currentVersion, version);
    this.emit('change', this.currentVersion);
  }

  /** Upsert entities learned outside the stream (e.g. from an RPC answer), without moving the version. */
  upsert(metadata: Partial<Pick<Metadata, keyof Metadata & ('topics' | 'partitions' | 'brokers' | 'replicas' | 'producers' | 'consumers')>>): void {
    for (const topic of metadata.topics ?? []) {
      this.topicsById.set(topic.id, topic);
      this.topicsByName.set(topic.name, topic);
    }
    for (const partition of metadata.partitions ?? []) {
      const known = this.partitionsById.get(partition.topicId, partition.partitionId);
      // An older epoch never replaces a newer one (deltas and RPC answers may cross).
      if (known && known.epoch > partition.epoch) continue;
      if (!known || known.epoch !== partition.epoch || known.brokerId !== partition.brokerId) this.ownersChanged++;
      this.partitionsById.set(partition.topicId, partition.partitionId, partition);
    }
    for (const broker of metadata.brokers ?? []) {
      const known = this.brokersById.get(broker.id);
      if (!known || known.state !== broker.state || known.address !== broker.address) this.ownersChanged++;
      this.brokersById.set(broker.id, broker);
    }
    for (const replica of metadata.replicas ?? []) this.replicasById.set(replica.id, replica);
    for (const producer of metadata.producers ?? []) this.producersById.set(producer.id, producer);
    for (const consumer of metadata.consumers ?? []) this.consumersById.set(consumer.id, consumer);
  }

  topicByName(name: string): Topic | undefined {
    return this.topicsByName.get(name);
  }

  topicById(id: number): Topic | undefined {
    return this.topicsById.get(id);
  }

  topics(): Topic[] {
    return [...this.topicsById.values()].sort((a, b) => a.id - b.id);
  }

  partition(topicId: number, partitionId: number): Partition | undefined {
    return this.partitionsById.get(topicId, partitionId);
  }

  /** The topic's partitions in partition order (missing ones are skipped). */
  partitionsOf(topicId: number): Partition[] {
    const topic = this.topicsById.get(topicId);
    if (!topic) return [];
    const result: Partition[] = [];
    for (let p = 0; p < topic.partitionCount; p++) {
      const partition = this.partition(topicId, p);
      if (partition) result.push(partition);
    }
    return result;
  }

  broker(id: number): Broker | undefined {
    return this.brokersById.get(id);
  }

  brokers(): Broker[] {
    return [...this.brokersById.values()].sort((a, b) => a.id - b.id);
  }

  aliveBroker(id: number): Broker | undefined {
    const broker = this.brokersById.get(id);
    return broker && broker.state !== BrokerState.DEAD ? broker : undefined;
  }

  /** Replicas that can serve (one that stopped heartbeating has its address emptied by the manager). */
  replicas(): Replica[] {
    return [...this.replicasById.values()].filter((r) => r.address !== '').sort((a, b) => a.id - b.id);
  }

  producer(id: number): Producer | undefined {
    return this.producersById.get(id);
  }

  consumer(id: number): Consumer | undefined {
    return this.consumersById.get(id);
  }

  /** Resolves once the view has reached `version` (read-your-writes after a manager call). */
  waitForVersion(version: number, timeoutMs: number): Promise<boolean> {
    if (this.currentVersion >= version) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onChange = (v: number): void => {
        if (v >= version) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (reached: boolean): void => {
        clearTimeout(timer);
        this.off('change', onChange);
        resolve(reached);
      };
      this.on('change', onChange);
    });
  }

  private clear(): void {
    this.topicsById.clear();
    this.topicsByName.clear();
    this.partitionsById.clear();
    this.ownersChanged++;
    this.brokersById.clear();
    this.replicasById.clear();
    this.producersById.clear();
    this.consumersById.clear();
  }
}
