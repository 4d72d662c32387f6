import { create } from '@bufbuild/protobuf';
import {
  BrokerSchema,
  BrokerState,
  ConsumerSchema,
  PartitionSchema,
  ProducerSchema,
  RecordSchema,
  ReplicaSchema,
  TopicSchema,
  type AppendRequest,
  type Broker,
  type Consumer,
  type Metadata,
  type Partition,
  type Producer,
  type Record,
  type Replica,
  type Topic,
} from '@partq/proto';
import { PartqError } from '@partq/runtime';

type Delta = Partial<Pick<Metadata, 'topics' | 'partitions' | 'brokers' | 'replicas' | 'producers' | 'consumers'>>;

/**
 * The whole cluster of the fakes in one object: the fake manager, brokers and replica read and
 * write it directly, so a test can produce through the gateway and consume the same bytes back.
 * Metadata changes are published to the manager's watchers unless the test holds them back.
 */
export class FakeClusterState {
  readonly topics = new Map<number, Topic>();
  readonly partitions = new Map<string, Partition>();
  readonly brokers = new Map<number, Broker>();
  readonly replicas = new Map<number, Replica>();
  readonly producers = new Map<number, Producer>();
  readonly consumers = new Map<number, Consumer>();
  /** Records per partition key; offsets are indexes. */
  readonly logs = new Map<string, Record[]>();
  /** Every Append any fake broker received, in arrival order. */
  readonly appendRequests: AppendRequest[] = [];
  /** Consumer id -> partition id -> next offset. */
  readonly positions = new Map<number, Map<number, bigint>>();
  defaultPartitions = 3;
  /** While true, changes are not streamed to watchers (as if the stream lagged); getMetadata still sees them. */
  muted = false;
  version = 1;
  private nextId = { topic: 1, producer: 1, consumer: 1, broker: 1, replica: 1 };
  private readonly listeners = new Set<(delta: Delta, version: number) => void>();

  onChange(listener: (delta: Delta, version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): Metadata {
    return {
      $typeName: 'partq.v1.Metadata',
      topics: [...this.topics.values()],
      partitions: [...this.partitions.values()],
      brokers: [...this.brokers.values()],
      replicas: [...this.replicas.values()],
      producers: [...this.producers.values()],
      consumers: [...this.consumers.values()],
      removedProducerIds: [],
      removedConsumerIds: [],
    };
  }

  /** Bumps the version and tells the watchers (unless `publish` is false: the change stays silent). */
  changed(delta: Delta, publish = true): void {
    this.version++;
    if (!publish || this.muted) return;
    for (const listener of this.listeners) listener(delta, this.version);
  }

  addBroker(address: string): Broker {
    const broker = create(BrokerSchema, { id: this.nextId.broker++, address, state: BrokerState.ALIVE, lastHeartbeatMs: BigInt(Date.now()) });
    this.brokers.set(broker.id, broker);
    this.changed({ brokers: [broker] });
    return broker;
  }

  addReplica(address: string): Replica {
    const replica = create(ReplicaSchema, { id: this.nextId.replica++, address, lastHeartbeatMs: BigInt(Date.now()) });
    this.replicas.set(replica.id, replica);
    this.changed({ replicas: [replica] });
    return replica;
  }

  /** UpdateTopic: a limit undefined stays, 0n removes it. */
  updateTopicLimits(name: string, retentionMs: bigint | undefined, retentionBytes: bigint | undefined): Topic {
    const topic = this.topicByName(name);
    if (!topic) throw new PartqError('NOT_FOUND', `topic '${name}' does not exist`);
    if (retentionMs !== undefined) topic.retentionMs = retentionMs === 0n ? undefined : retentionMs;
    if (retentionBytes !== undefined) topic.retentionBytes = retentionBytes === 0n ? undefined : retentionBytes;
    this.changed({ topics: [topic] });
    return topic;
  }

  createTopic(name: string, partitionCount: number, limits: Pick<Topic, 'retentionMs' | 'retentionBytes'> = {}): { topic: Topic; partitions: Partition[] } {
    if ([...this.topics.values()].some((t) => t.name === name)) throw new PartqError('ALREADY_EXISTS', `topic '${name}' already exists`);
    const topic = create(TopicSchema, { id: this.nextId.topic++, name, partitionCount: partitionCount || this.defaultPartitions, ...limits });
    this.topics.set(topic.id, topic);
    const brokerIds = [...this.brokers.keys()];
    const partitions: Partition[] = [];
    for (let p = 0; p < topic.partitionCount; p++) {
      const partition = create(PartitionSchema, { topicId: topic.id, partitionId: p, brokerId: brokerIds[p % brokerIds.length] ?? 0, epoch: 1 });
      this.partitions.set(key(topic.id, p), partition);
      this.logs.set(key(topic.id, p), []);
      partitions.push(partition);
    }
    this.changed({ topics: [topic], partitions });
    return { topic, partitions };
  }

  topicByName(name: string): Topic | undefined {
    return [...this.topics.values()].find((t) => t.name === name);
  }

  registerProducer(topicId: number, partitionId: number | undefined): Producer {
    const producer = create(ProducerSchema, { id: this.nextId.producer++, topicId, partitionId });
    this.producers.set(producer.id, producer);
    this.changed({ producers: [producer] });
    return producer;
  }

  registerConsumer(topic: Topic, partitionId: number | undefined, fromEarliest: boolean): Consumer {
    const consumer = create(ConsumerSchema, { id: this.nextId.consumer++, topicId: topic.id, partitionId });
    this.consumers.set(consumer.id, consumer);
    const positions = new Map<number, bigint>();
    for (let p = 0; p < topic.partitionCount; p++) {
      if (partitionId !== undefined && p !== partitionId) continue;
      positions.set(p, fromEarliest ? 0n : BigInt(this.log(topic.id, p).length));
    }
    this.positions.set(consumer.id, positions);
    this.changed({ consumers: [consumer] });
    return consumer;
  }

  partition(topicId: number, partitionId: number): Partition {
    const partition = this.partitions.get(key(topicId, partitionId));
    if (!partition) throw new PartqError('NOT_FOUND', `no partition ${topicId}/${partitionId}`);
    return partition;
  }

  /** Gives a partition to `brokerId` with the next epoch. */
  movePartition(topicId: number, partitionId: number, brokerId: number, publish = true): Partition {
    const current = this.partition(topicId, partitionId);
    const moved = create(PartitionSchema, { ...current, brokerId, epoch: current.epoch + 1 });
    this.partitions.set(key(topicId, partitionId), moved);
    this.changed({ partitions: [moved] }, publish);
    return moved;
  }

  /** Publishes the current state of a partition (after a silent change). */
  publishPartition(topicId: number, partitionId: number): void {
    this.changed({ partitions: [this.partition(topicId, partitionId)] });
  }

  log(topicId: number, partitionId: number): Record[] {
    const log = this.logs.get(key(topicId, partitionId));
    if (!log) throw new PartqError('NOT_FOUND', `no partition ${topicId}/${partitionId}`);
    return log;
  }

  append(topicId: number, partitionId: number, payload: Uint8Array, key_: Uint8Array | undefined, producerId: number, sequence: bigint | undefined): bigint {
    const log = this.log(topicId, partitionId);
    const record = create(RecordSchema, { offset: BigInt(log.length), payload, key: key_, producerId, sequence, timestampMs: BigInt(Date.now()) });
    log.push(record);
    return record.offset;
  }
}

export function key(topicId: number, partitionId: number): string {
  return `${topicId}/${partitionId}`;
}
