import { EventEmitter } from 'node:events';
import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  MetadataSchema,
  type Broker,
  type Consumer,
  type ManagerService,
  type Metadata,
  type Partition,
  type Topic,
  type WatchMetadataResponse,
} from '@partq/proto';
import { PartqError } from '@partq/runtime';

type MetadataChange = Partial<Pick<Metadata, 'topics' | 'partitions' | 'brokers' | 'consumers'>>;

/**
 * Just enough of the manager for a replica: a metadata stream (snapshot, then deltas), replica
 * registration and heartbeats, activity reports and GetMetadata. Entities are kept as the real
 * manager sends them; `publish` streams a change, `addQuietly` only shows it to GetMetadata.
 */
export class FakeManager {
  readonly topics = new Map<number, Topic>();
  readonly partitions = new Map<string, Partition>();
  readonly brokers = new Map<number, Broker>();
  readonly consumers = new Map<number, Consumer>();
  readonly replicas = new Map<number, string>();
  readonly heartbeats: number[] = [];
  readonly activeConsumers = new Set<number>();
  getMetadataCalls = 0;
  /** WatchMetadata streams being served. */
  openWatches = 0;
  private version = 1;

  get currentVersion(): number {
    return this.version;
  }
  private nextReplicaId = 1;
  private readonly changes = new EventEmitter<{ change: [WatchMetadataResponse] }>();

  /** Streams a change to every watcher. */
  publish(change: MetadataChange): void {
    this.addQuietly(change);
    this.version++;
    const delta: WatchMetadataResponse = {
      $typeName: 'partq.v1.WatchMetadataResponse',
      snapshot: false,
      version: BigInt(this.version),
      metadata: create(MetadataSchema, change),
    };
    this.changes.emit('change', delta);
  }

  /** Records a change without streaming it (as if the stream were lagging). */
  addQuietly(change: MetadataChange): void {
    for (const topic of change.topics ?? []) this.topics.set(topic.id, topic);
    for (const partition of change.partitions ?? []) this.partitions.set(`${partition.topicId}/${partition.partitionId}`, partition);
    for (const broker of change.brokers ?? []) this.brokers.set(broker.id, broker);
    for (const consumer of change.consumers ?? []) this.consumers.set(consumer.id, consumer);
  }

  /** Forgets every replica, as a manager that lost its state would: heartbeats answer NOT_FOUND. */
  forgetReplicas(): void {
    this.replicas.clear();
  }

  readonly impl: Partial<ServiceImpl<typeof ManagerService>> = {
    watchMetadata: (_request, context) => this.watch(context),
    registerReplica: async (request) => {
      const replicaId = this.nextReplicaId++;
      this.replicas.set(replicaId, request.address);
      return { replicaId, heartbeatIntervalMs: 50 };
    },
    replicaHeartbeat: async (request) => {
      if (!this.replicas.has(request.replicaId)) throw new PartqError('NOT_FOUND', `replica ${request.replicaId} is not registered`);
      this.heartbeats.push(request.replicaId);
      return {};
    },
    reportActivity: async (request) => {
      for (const id of request.consumerIds) this.activeConsumers.add(id);
      return {};
    },
    getMetadata: async () => {
      this.getMetadataCalls++;
      return { version: BigInt(this.version), metadata: this.snapshot() };
    },
  };

  private snapshot(): Metadata {
    return create(MetadataSchema, {
      topics: [...this.topics.values()],
      partitions: [...this.partitions.values()],
      brokers: [...this.brokers.values()],
      consumers: [...this.consumers.values()],
    });
  }

  private async *watch(context: HandlerContext): AsyncGenerator<WatchMetadataResponse> {
    const pending: WatchMetadataResponse[] = [];
    let wake: (() => void) | undefined;
    const onChange = (delta: WatchMetadataResponse): void => {
      pending.push(delta);
      wake?.();
    };
    const onAbort = (): void => wake?.();
    this.changes.on('change', onChange);
    context.signal.addEventListener('abort', onAbort);
    this.openWatches++;
    try {
      yield { $typeName: 'partq.v1.WatchMetadataResponse', snapshot: true, version: BigInt(this.version), metadata: this.snapshot() };
      while (!context.signal.aborted) {
        const next = pending.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.openWatches--;
      this.changes.off('change', onChange);
      context.signal.removeEventListener('abort', onAbort);
    }
  }
}
