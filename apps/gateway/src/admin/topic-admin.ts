import type { Client } from '@connectrpc/connect';
import { assertRetentionLimit, partitionKey, type MetadataView } from '@partq/cluster';
import { Acks, type ManagerService, type Partition, type Topic } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import type { Logger } from 'pino';
import { assertTopicName, type MetadataLookup } from '../cluster/metadata-lookup.js';
import { MANAGER_CALL_TIMEOUT_MS, managerCall } from '../cluster/manager-call.js';
import type { EndOffsetReader } from '../cluster/end-offset-reader.js';

/** Most partitions one topic may have. */
export const MAX_PARTITIONS = 1024;

export interface TopicAdminOptions {
  manager: Client<typeof ManagerService>;
  view: MetadataView;
  lookup: MetadataLookup;
  endOffsets: Pick<EndOffsetReader, 'read'>;
  logger: Pick<Logger, 'warn'>;
}

export interface PartitionOverview {
  partitionId: number;
  /** 0 while the partition has no owner. */
  brokerId: number;
  epoch: number;
  /** First offset still retained. */
  startOffset: bigint;
  /** Next offset to be written, as the owning broker reports it (the committed high watermark when it cannot). */
  endOffset: bigint;
  highWatermark: bigint;
  /** Bytes of records held in the Central DB. */
  storedBytes: bigint;
}

/** What a new topic may set; anything unset takes the cluster's default (limits: none). */
export interface TopicSettings {
  partitions?: number;
  defaultAcks?: Acks;
  /** Delete records older than this many ms, consumed or not. */
  retentionMs?: bigint;
  /** Keep at most this many bytes of records per partition, consumed or not. */
  retentionBytes?: bigint;
}

/** Topic creation and listing, and where each partition of a topic stands. */
export class TopicAdmin {
  constructor(private readonly options: TopicAdminOptions) {}

  async create(name: string, settings: TopicSettings = {}): Promise<{ topic: Topic; partitions: Partition[] }> {
    assertTopicName(name);
    const { partitions, defaultAcks = Acks.UNSPECIFIED, retentionMs, retentionBytes } = settings;
    if (partitions !== undefined && (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS)) {
      throw new PartqError('INVALID_ARGUMENT', `partitions must be an integer from 1 to ${MAX_PARTITIONS}`, { partitions });
    }
    assertRetentionLimit(retentionMs, 'retention_ms');
    assertRetentionLimit(retentionBytes, 'retention_bytes');
    const answer = await managerCall(() =>
      this.options.manager.createTopic({ name, partitions: partitions ?? 0, defaultAcks, retentionMs, retentionBytes }, { timeoutMs: MANAGER_CALL_TIMEOUT_MS }),
    );
    if (!answer.topic) throw new PartqError('INTERNAL', 'the manager created the topic but did not describe it');
    this.options.view.upsert({ topics: [answer.topic], partitions: answer.partitions });
    return { topic: answer.topic, partitions: answer.partitions };
  }

  /**
   * Changes a topic's limits: a limit not given stays as it is, 0n removes it. What a smaller
   * limit leaves out goes at the manager's next retention pass.
   */
  async updateLimits(name: string, change: Pick<TopicSettings, 'retentionMs' | 'retentionBytes'>): Promise<Topic> {
    assertTopicName(name);
    const { retentionMs, retentionBytes } = change;
    if (retentionMs === undefined && retentionBytes === undefined) throw new PartqError('INVALID_ARGUMENT', 'name retention_ms or retention_bytes to change');
    if (retentionMs !== 0n) assertRetentionLimit(retentionMs, 'retention_ms');
    if (retentionBytes !== 0n) assertRetentionLimit(retentionBytes, 'retention_bytes');
    const answer = await managerCall(() => this.options.manager.updateTopic({ name, retentionMs, retentionBytes }, { timeoutMs: MANAGER_CALL_TIMEOUT_MS }));
    if (!answer.topic) throw new PartqError('INTERNAL', 'the manager changed the topic but did not describe it');
    this.options.view.upsert({ topics: [answer.topic] });
    return answer.topic;
  }

  /** Every topic, oldest first. Asks the manager (a topic created through another gateway counts), else the view. */
  async list(): Promise<Topic[]> {
    try {
      const answer = await managerCall(() => this.options.manager.listTopics({}, { timeoutMs: MANAGER_CALL_TIMEOUT_MS }));
      this.options.view.upsert({ topics: answer.topics });
      return [...answer.topics].sort((a, b) => a.id - b.id);
    } catch (error) {
      if (!(error instanceof PartqError) || error.code !== 'UNAVAILABLE') throw error;
      this.options.logger.warn({ err: error }, 'manager unavailable; listing topics from the metadata view');
      return this.options.view.topics();
    }
  }

  async partitions(name: string): Promise<{ topic: Topic; partitions: PartitionOverview[] }> {
    const topic = await this.options.lookup.topic(name);
    const partitions = this.options.view.partitionsOf(topic.id);
    const endOffsets = await this.endOffsets(topic, partitions);
    return {
      topic,
      partitions: partitions.map((p) => ({
        partitionId: p.partitionId,
        brokerId: p.brokerId,
        epoch: p.epoch,
        startOffset: p.logStartOffset,
        endOffset: endOffsets.get(p.partitionId) ?? p.highWatermark,
        highWatermark: p.highWatermark,
        storedBytes: p.storedBytes,
      })),
    };
  }

  /** End offsets from the owning brokers; a partition whose broker does not answer is left out. */
  private async endOffsets(topic: Topic, partitions: Partition[]): Promise<Map<number, bigint>> {
    const { offsets, unreachable } = await this.options.endOffsets.read(partitions);
    if (unreachable.length > 0) {
      this.options.logger.warn({ brokerIds: unreachable, topic: topic.name }, 'could not read end offsets; using the high watermark');
    }
    const result = new Map<number, bigint>();
    for (const p of partitions) {
      const offset = offsets.get(partitionKey(p.topicId, p.partitionId));
      if (offset !== undefined) result.set(p.partitionId, offset);
    }
    return result;
  }
}
