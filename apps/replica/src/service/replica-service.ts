import { create } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import type { ActivityReporter, MetadataView } from '@partq/cluster';
import {
  ConsumedMessageSchema,
  ConsumeResponseSchema,
  PartitionSizeSchema,
  SizeResponseSchema,
  type Consumer,
  type ConsumedMessage,
  type ConsumeRequest,
  type ConsumeResponse,
  type ManagerService,
  type Partition,
  type SizeRequest,
  type SizeResponse,
  type Topic,
} from '@partq/proto';
import { PartqError, sleep, type Logger } from '@partq/runtime';
import type { EndOffsets } from '../fetch/end-offsets.js';
import type { FetchedRecord } from '../fetch/fetched-record.js';
import type { PartitionRead, PartitionReader } from '../fetch/partition-reader.js';
import type { ReplicaMetrics } from '../metrics.js';
import { KeyedMutex } from '@partq/runtime';
import type { PositionStore } from '../positions/position-store.js';
import { PartitionCursor } from './partition-cursor.js';

export interface ReplicaServiceOptions {
  view: MetadataView;
  positions: PositionStore;
  reader: PartitionReader;
  endOffsets: EndOffsets;
  /** Asked once for fresh metadata when a consumer is not in the view yet. */
  manager?: Pick<Client<typeof ManagerService>, 'getMetadata'>;
  activity?: Pick<ActivityReporter, 'consumerActive'>;
  metrics?: ReplicaMetrics;
  /** The most messages one consume returns (larger max_messages are cut to it). */
  fetchMaxRecords: number;
  logger: Pick<Logger, 'warn' | 'debug'>;
  /** How long to wait for the metadata stream when the manager cannot be asked directly. */
  metadataWaitMs?: number;
}

/**
 * How long a consume keeps retrying compare-and-set misses (another replica keeps moving the same
 * consumer, e.g. while the gateways disagree on its replica) before it answers UNAVAILABLE.
 */
const CONFLICT_RETRY_BUDGET_MS = 3000;
/** Largest pause between retries after a miss; jittered so two replicas fall out of step. */
const CONFLICT_MAX_BACKOFF_MS = 20;
const DEFAULT_METADATA_WAIT_MS = 500;
const MANAGER_TIMEOUT_MS = 2000;

/**
 * ReplicaService: consumes and sizes for consumers. A consume takes the next messages of one
 * partition in offset order, commits the consumer's new position in PostgreSQL, and only then
 * answers, so neither a restart nor a move to another replica can skip or repeat a message.
 */
export class ReplicaServiceImpl {
  private readonly consumers = new KeyedMutex<number>();
  private readonly cursor = new PartitionCursor();

  constructor(private readonly options: ReplicaServiceOptions) {}

  async consume(request: ConsumeRequest): Promise<ConsumeResponse> {
    const stopTimer = this.options.metrics?.consumeDuration.startTimer();
    let outcome = 'error';
    try {
      if (request.maxMessages < 0) throw new PartqError('INVALID_ARGUMENT', 'max_messages must not be negative');
      const { consumer, topic } = await this.subscription(request.consumerId, request.topic);
      const partitionIds = this.partitionsToRead(consumer, topic, request.partitionId);
      const max = Math.min(Math.max(request.maxMessages, 1), this.options.fetchMaxRecords);
      // Round robin only when the consumer leaves the choice to us.
      const rotate = request.partitionId === undefined && consumer.partitionId === undefined;
      const messages = await this.consumers.run(consumer.id, async () => {
        const replay = request.requestId === '' ? undefined : await this.replay(consumer, topic, request.requestId);
        return replay ?? this.consumeInTurn(consumer, topic, partitionIds, max, rotate, request.requestId);
      });
      outcome = messages.length > 0 ? 'messages' : 'empty';
      if (messages.length > 0) this.options.metrics?.consumedMessages.inc({ topic: topic.name }, messages.length);
      return create(ConsumeResponseSchema, { messages });
    } finally {
      stopTimer?.({ outcome });
    }
  }

  async size(request: SizeRequest): Promise<SizeResponse> {
    const { consumer, topic } = await this.subscription(request.consumerId, request.topic);
    const partitions = this.existingPartitions(topic, this.partitionsToRead(consumer, topic, undefined));
    // Fresh from the database: another replica may have moved the consumer since we cached it.
    const [positions, ends] = await Promise.all([this.options.positions.reload(consumer.id), this.options.endOffsets.of(partitions)]);
    let total = 0;
    const sizes = partitions.map((partition) => {
      const position = positions.get(partition.partitionId);
      const from = Math.max(position ?? 0, Number(partition.logStartOffset));
      const end = ends.get(partition.partitionId) ?? Number(partition.highWatermark);
      const size = position === undefined ? 0 : Math.max(0, end - from);
      total += size;
      return create(PartitionSizeSchema, { partitionId: partition.partitionId, size: BigInt(size) });
    });
    return create(SizeResponseSchema, { size: BigInt(total), partitions: sizes });
  }

  /**
   * One consume under the consumer's lock: the first partition in turn that has messages gives up
   * to `max` of them, and the position moves past them in the database before they are returned.
   */
  /**
   * A retry of the consumer's last request (its answer was lost on the way): the same records
   * again, and the position stays where that delivery left it.
   */
  private async replay(consumer: Consumer, topic: Topic, requestId: string): Promise<ConsumedMessage[] | undefined> {
    const last = await this.options.positions.lastDelivery(consumer.id);
    if (!last || last.requestId !== requestId) return undefined;
    const partition = this.existingPartitions(topic, [last.partitionId])[0];
    if (!partition) return undefined;
    const messages: ConsumedMessage[] = [];
    for (let offset = last.from; offset < last.to; ) {
      const read = await this.options.reader.read(partition, offset, last.to - offset);
      const records = read.records.filter((r) => r.offset >= offset && r.offset < last.to);
      if (records.length === 0) break; // deleted by retention since: nothing more to give back
      messages.push(...records.map((record) => toConsumedMessage(partition.partitionId, record)));
      offset = records[records.length - 1]!.offset + 1;
    }
    this.options.metrics?.replayedConsumes.inc();
    return messages;
  }

  private async consumeInTurn(
    consumer: Consumer,
    topic: Topic,
    partitionIds: number[],
    max: number,
    rotate: boolean,
    requestId: string,
  ): Promise<ConsumedMessage[]> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        if (Date.now() - started > CONFLICT_RETRY_BUDGET_MS) {
          throw new PartqError('UNAVAILABLE', `the position of consumer ${consumer.id} keeps moving; retry`, { consumerId: consumer.id });
        }
        // The winner of the last race reads from its cache while we reload: step aside a moment.
        if (attempt > 1) await sleep(Math.random() * Math.min(CONFLICT_MAX_BACKOFF_MS, 2 ** attempt));
      }
      const positions = await this.options.positions.positionsOf(consumer.id);
      const order = rotate ? this.cursor.order(consumer.id, partitionIds) : partitionIds;
      const partitions = this.existingPartitions(topic, order);
      let ends: Map<number, number> | undefined;
      let missingPosition = false;
      let conflict = false;
      for (const partition of partitions) {
        const position = positions.get(partition.partitionId);
        if (position === undefined) {
          // Positions are written when the consumer registers; a missing one is not ours to invent.
          missingPosition = true;
          continue;
        }
        let read: PartitionRead | undefined = this.options.reader.readCached(partition, position, max);
        if (!read) {
          // With several partitions to look at, one GetOffsets per broker tells which have messages,
          // instead of a Fetch per empty partition.
          if (partitions.length > 1) {
            ends ??= await this.options.endOffsets.of(partitions);
            // Skip only what is known to be empty: an owner that did not answer may still hold messages.
            const end = ends.get(partition.partitionId);
            if (end !== undefined && end <= Math.max(position, Number(partition.logStartOffset))) continue;
          }
          read = await this.options.reader.read(partition, position, max);
        }
        const last = read.records[read.records.length - 1];
        const to = last ? last.offset + 1 : read.from;
        if (to === position) continue;
        const advanced = await this.options.positions.advance(consumer.id, partition.partitionId, position, to, read.records.length > 0 ? requestId : '');
        if (!advanced) {
          this.options.logger.debug({ consumerId: consumer.id, partitionId: partition.partitionId, position }, 'position moved elsewhere; reloading');
          conflict = true;
          break;
        }
        // A jump over records deleted by retention moves the position but delivers nothing.
        if (read.records.length === 0) continue;
        if (rotate) this.cursor.served(consumer.id, partition.partitionId);
        return read.records.map((record) => toConsumedMessage(partition.partitionId, record));
      }
      if (!conflict) {
        if (missingPosition) this.options.positions.forget(consumer.id);
        return [];
      }
    }
  }

  /** The consumer and its topic, checked against the topic named in the request. */
  private async subscription(consumerId: number, topicName: string): Promise<{ consumer: Consumer; topic: Topic }> {
    if (!Number.isInteger(consumerId) || consumerId <= 0) throw new PartqError('INVALID_ARGUMENT', 'consumer_id is required');
    if (topicName === '') throw new PartqError('INVALID_ARGUMENT', 'topic is required');
    const consumer = this.options.view.consumer(consumerId) ?? (await this.refreshMetadataFor(consumerId));
    if (!consumer) throw new PartqError('NOT_FOUND', `consumer ${consumerId} is not registered`, { consumerId });
    const topic = this.options.view.topicById(consumer.topicId);
    if (!topic) throw new PartqError('UNAVAILABLE', `the topic of consumer ${consumerId} is not known here yet; retry`, { consumerId });
    if (topic.name !== topicName) {
      throw new PartqError('PERMISSION_DENIED', `consumer ${consumerId} is registered for topic "${topic.name}", not "${topicName}"`, {
        consumerId,
        topic: topic.name,
      });
    }
    this.options.activity?.consumerActive(consumer.id);
    return { consumer, topic };
  }

  /**
   * A consumer registered a moment ago (through another gateway, say) may not have reached the
   * metadata stream yet: ask the manager once, or else wait briefly for the stream.
   */
  private async refreshMetadataFor(consumerId: number): Promise<Consumer | undefined> {
    const { view, manager } = this.options;
    if (manager) {
      try {
        const answer = await manager.getMetadata({}, { timeoutMs: MANAGER_TIMEOUT_MS });
        if (answer.metadata) view.upsert(answer.metadata);
        return view.consumer(consumerId);
      } catch (error) {
        this.options.logger.warn({ err: error, consumerId }, 'GetMetadata failed; waiting for the metadata stream');
      }
    }
    await view.waitForVersion(view.version + 1, this.options.metadataWaitMs ?? DEFAULT_METADATA_WAIT_MS);
    return view.consumer(consumerId);
  }

  /** The partitions a request may read, in ascending order. */
  private partitionsToRead(consumer: Consumer, topic: Topic, requested: number | undefined): number[] {
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < 0 || requested >= topic.partitionCount) {
        throw new PartqError('INVALID_ARGUMENT', `topic "${topic.name}" has partitions 0-${topic.partitionCount - 1}, not ${requested}`, {
          topic: topic.name,
          partitionId: requested,
        });
      }
      if (consumer.partitionId !== undefined && consumer.partitionId !== requested) {
        throw new PartqError('PERMISSION_DENIED', `consumer ${consumer.id} is subscribed to partition ${consumer.partitionId}, not ${requested}`, {
          consumerId: consumer.id,
          partitionId: consumer.partitionId,
        });
      }
      return [requested];
    }
    if (consumer.partitionId !== undefined) return [consumer.partitionId];
    return Array.from({ length: topic.partitionCount }, (_, p) => p);
  }

  private existingPartitions(topic: Topic, partitionIds: readonly number[]): Partition[] {
    const partitions: Partition[] = [];
    for (const id of partitionIds) {
      const partition = this.options.view.partition(topic.id, id);
      if (partition) partitions.push(partition);
    }
    return partitions;
  }
}

function toConsumedMessage(partitionId: number, record: FetchedRecord): ConsumedMessage {
  return create(ConsumedMessageSchema, {
    partitionId,
    offset: BigInt(record.offset),
    payload: record.payload,
    ...(record.key === undefined ? {} : { key: record.key }),
    timestampMs: BigInt(record.timestampMs),
  });
}
