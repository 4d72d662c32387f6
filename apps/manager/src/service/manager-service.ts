import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { assertRetentionLimit } from '@partq/cluster';
import { encodeSequenceRuns, isValidTopicName } from '@partq/partition';
import {
  Acks,
  HealthEntrySchema,
  PartitionMoveSchema,
  ProducerSequenceSchema,
  PartitionOffsetSchema,
  type ManagerService,
} from '@partq/proto';
import { PartqError } from '@partq/runtime';
import type { TopicRow } from '@partq/schema';
import type { Logger } from 'pino';
import type { PartitionAssigner } from '../assignment/partition-assigner.js';
import type { MoveReport, PartitionMover } from '../assignment/partition-mover.js';
import type { BrokerClients } from '../membership/broker-clients.js';
import type { BrokerRegistry } from '../membership/broker-registry.js';
import { FullDiskDrains } from '../membership/full-disk-drains.js';
import type { ReplicaRegistry } from '../membership/replica-registry.js';
import { endOffsets } from '../offsets/end-offsets.js';
import type { ClusterState } from '../state/cluster-state.js';
import type { Mutex } from '@partq/runtime';
import { brokerToProto, consumerToProto, partitionToProto, producerToProto, topicToProto } from '../state/to-proto.js';
import type { MessageStore } from '../store/message-store.js';
import type { MetadataStore, NewTopic, TopicLimitsChange } from '../store/metadata-store.js';
import type { BrokerSync } from '../sync/broker-sync.js';
import type { TransactionLog } from '../txlog/transaction-log.js';

export interface ManagerServiceDeps {
  state: ClusterState;
  store: MetadataStore;
  assigner: PartitionAssigner;
  mover: PartitionMover;
  messages: MessageStore;
  brokerRegistry: BrokerRegistry;
  replicaRegistry: ReplicaRegistry;
  brokers: BrokerClients;
  lock: Mutex;
  txlog: TransactionLog;
  logger: Logger;
  /** Brokers whose syncs to PostgreSQL keep failing, listed in the health table. */
  sync: Pick<BrokerSync, 'failingSyncs'>;
  heartbeatIntervalMs: number;
  /** Told to brokers, whose stall fences must notice any stall this long less a heartbeat interval. */
  brokerTimeoutMs: number;
  defaultPartitions: number;
  /** How long a broker drained for a full disk must report room before it is resumed (0: by an operator only). */
  fullDiskResumeAfterMs: number;
}

const MAX_PARTITIONS = 1024;

/** A topic's time and size limits as CreateTopic carries them; unset: none. */
interface RetentionLimits {
  retentionMs?: bigint;
  retentionBytes?: bigint;
}

function retentionLimit(value: bigint | undefined, field: 'retention_ms' | 'retention_bytes'): number | null {
  assertRetentionLimit(value, field);
  return value === undefined ? null : Number(value);
}

export function createManagerService(deps: ManagerServiceDeps): ServiceImpl<typeof ManagerService> {
  const { state, store, assigner, mover, brokerRegistry, replicaRegistry, brokers, lock, txlog, logger } = deps;
  const fullDisks = new FullDiskDrains({
    state,
    drain: (brokerId) => mover.drain(brokerId, 'disk_full'),
    resume: (brokerId) => mover.resume(brokerId),
    logger,
    resumeAfterMs: deps.fullDiskResumeAfterMs,
  });

  async function createTopic(name: string, partitions: number, acks: Acks, limits: RetentionLimits = {}): Promise<{ topic: TopicRow; created: boolean }> {
    if (!isValidTopicName(name)) {
      throw new PartqError('INVALID_ARGUMENT', `invalid topic name '${String(name).slice(0, 300)}': use 1-249 characters of [A-Za-z0-9._-]`);
    }
    const count = partitions === 0 ? deps.defaultPartitions : partitions;
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
      throw new PartqError('INVALID_ARGUMENT', `partitions must be an integer from 1 to ${MAX_PARTITIONS}`);
    }
    const retentionMs = retentionLimit(limits.retentionMs, 'retention_ms');
    const retentionBytes = retentionLimit(limits.retentionBytes, 'retention_bytes');
    const result = await lock.run(async () => {
      const existing = state.topicsByName.get(name);
      if (existing) return { topic: existing, partitions: [], created: false };
      const request: NewTopic = {
        name,
        partitionCount: count,
        defaultAcks: acks === Acks.ALL ? 'all' : 'broker',
        retentionMs,
        retentionBytes,
        owners: assigner.ownersForNewTopic(count),
      };
      const inserted = await txlog.run(
        { kind: 'create-topic', name, partitions: count, acks: request.defaultAcks, owners: request.owners, retentionMs, retentionBytes },
        () => store.createTopic(request),
      );
      if (!inserted) throw new PartqError('ALREADY_EXISTS', `topic '${name}' already exists`);
      state.apply({ topics: [inserted.topic], partitions: inserted.partitions });
      logger.info({ topic: name, partitions: count }, 'topic created');
      return { ...inserted, created: true };
    });
    // The owners know their partitions before anyone hears the topic exists.
    if (result.created) await assigner.notifyOwners(result.partitions);
    return { topic: result.topic, created: result.created };
  }

  function topicNamed(name: string): TopicRow {
    const topic = state.topicsByName.get(name);
    if (!topic) throw new PartqError('NOT_FOUND', `topic '${name}' does not exist`);
    return topic;
  }

  function checkPartition(topic: TopicRow, partitionId: number | undefined): void {
    if (partitionId !== undefined && (partitionId < 0 || partitionId >= topic.partition_count)) {
      throw new PartqError('NOT_FOUND', `topic '${topic.name}' has no partition ${partitionId} (it has ${topic.partition_count})`, {
        partitionCount: topic.partition_count,
      });
    }
  }

  return {
    async registerBroker(req) {
      const row = await brokerRegistry.register(req.address, req.brokerId);
      return {
        brokerId: row.id,
        heartbeatIntervalMs: deps.heartbeatIntervalMs,
        brokerTimeoutMs: deps.brokerTimeoutMs,
        assignments: assigner.assignmentsFor(row.id),
      };
    },

    brokerHeartbeat(req) {
      brokerRegistry.heartbeat(req.brokerId);
      for (const end of req.endOffsets) state.reportedEnds.set(`${end.topicId}/${end.partitionId}`, Number(end.offset));
      fullDisks.reported(req.brokerId, req.diskFull);
      return { assignments: assigner.assignmentsFor(req.brokerId), brokerTimeoutMs: deps.brokerTimeoutMs };
    },

    registerReplica(req) {
      return { replicaId: replicaRegistry.register(req.address), heartbeatIntervalMs: deps.heartbeatIntervalMs };
    },

    replicaHeartbeat(req) {
      replicaRegistry.heartbeat(req.replicaId);
      return {};
    },

    async *watchMetadata(req, context: HandlerContext) {
      logger.debug({ watcher: req.watcher }, 'metadata watcher connected');
      yield* state.watch(context.signal);
    },

    async createTopic(req) {
      const { topic, created } = await createTopic(req.name, req.partitions, req.defaultAcks, req);
      if (!created) throw new PartqError('ALREADY_EXISTS', `topic '${req.name}' already exists`);
      return { topic: topicToProto(topic), partitions: state.partitionsOf(topic.id).map(partitionToProto) };
    },

    listTopics() {
      return { topics: [...state.topics.values()].sort((a, b) => a.id - b.id).map(topicToProto) };
    },

    async registerProducer(req) {
      const { topic, created } = state.topicsByName.has(req.topic)
        ? { topic: state.topicsByName.get(req.topic)!, created: false }
        : await createTopic(req.topic, 0, Acks.UNSPECIFIED);
      checkPartition(topic, req.partitionId);
      const producer = await store.createProducer(topic.id, req.partitionId);
      state.apply({ producers: [producer] });
      return {
        producer: producerToProto(producer),
        topic: topicToProto(topic),
        partitions: state.partitionsOf(topic.id).map(partitionToProto),
        topicCreated: created,
      };
    },

    async registerConsumer(req) {
      const topic = topicNamed(req.topic);
      checkPartition(topic, req.partitionId);
      const partitions = state.partitionsOf(topic.id).filter((p) => req.partitionId === undefined || p.partition_id === req.partitionId);
      const starts = req.fromEarliest
        ? new Map(partitions.map((p) => [p.partition_id, p.log_start_offset]))
        : await endOffsets(state, brokers, partitions);
      const positions = partitions.map((p) => ({ partitionId: p.partition_id, nextOffset: starts.get(p.partition_id) ?? p.high_watermark }));
      const consumer = await store.createConsumer(topic.id, req.partitionId, positions);
      state.apply({ consumers: [consumer] });
      return {
        consumer: consumerToProto(consumer),
        topic: topicToProto(topic),
        positions: positions.map((p) =>
          create(PartitionOffsetSchema, { topicId: topic.id, partitionId: p.partitionId, offset: BigInt(p.nextOffset) }),
        ),
      };
    },

    getMetadata() {
      return { version: BigInt(state.currentVersion), metadata: state.snapshot() };
    },

    async reportActivity(req) {
      const producerIds = req.producerIds.filter((id) => state.producers.has(id));
      const consumerIds = req.consumerIds.filter((id) => state.consumers.has(id));
      await store.recordActivity(producerIds, consumerIds, new Date());
      return {};
    },

    async getHealth() {
      const rows = await store.readHealth();
      const entries = rows.map((r) => {
        const broker = r.kind === 'broker' ? state.brokers.get(r.entity_id) : undefined;
        return create(HealthEntrySchema, {
          kind: r.kind,
          id: r.entity_id,
          status: broker?.state ?? r.status,
          lastSeenMs: BigInt(r.last_seen_at.getTime()),
          detail: broker?.address ?? '',
          diskFull: broker !== undefined && fullDisks.isFull(broker.id),
        });
      });
      // Syncs that keep failing: lastSeenMs is when the broker's last sync succeeded.
      for (const failing of deps.sync.failingSyncs()) {
        entries.push(
          create(HealthEntrySchema, { kind: 'sync', id: failing.brokerId, status: 'failing', lastSeenMs: BigInt(failing.lastSyncedMs), detail: failing.reason }),
        );
      }
      for (const replica of state.replicas.values()) {
        entries.push(
          create(HealthEntrySchema, {
            kind: 'replica',
            id: replica.id,
            status: replica.address === '' ? 'dead' : 'alive',
            lastSeenMs: BigInt(replica.lastHeartbeat.getTime()),
            detail: replica.address,
          }),
        );
      }
      return { entries };
    },

    async getProducerSequences(req) {
      const limit = Math.min(Math.max(req.limit, 1), 65_536);
      // A broker of this version reads runs: a few bytes where each sequence was a message to build and read.
      if (req.acceptRunsData) {
        return { runsData: encodeSequenceRuns(await deps.messages.recentSequenceRuns(req.topicId, req.partitionId, Number(req.belowOffset), limit)) };
      }
      const rows = await deps.messages.recentSequences(req.topicId, req.partitionId, Number(req.belowOffset), limit);
      return {
        sequences: rows.map((r) => create(ProducerSequenceSchema, { producerId: r.producerId, sequence: BigInt(r.sequence), offset: BigInt(r.offset) })),
      };
    },

    async drainBroker(req) {
      return { moves: toMoves(await mover.drain(req.brokerId)) };
    },

    async resumeBroker(req) {
      return { broker: brokerToProto(await mover.resume(req.brokerId)) };
    },

    async rebalance() {
      return { moves: toMoves(await mover.rebalance()) };
    },

    async updateTopic(req) {
      const change: TopicLimitsChange = {};
      if (req.retentionMs !== undefined) change.retention_ms = req.retentionMs === 0n ? null : retentionLimit(req.retentionMs, 'retention_ms');
      if (req.retentionBytes !== undefined) change.retention_bytes = req.retentionBytes === 0n ? null : retentionLimit(req.retentionBytes, 'retention_bytes');
      if (Object.keys(change).length === 0) throw new PartqError('INVALID_ARGUMENT', 'name retention_ms or retention_bytes to change');
      const row = await lock.run(async () => {
        const updated = await store.updateTopicLimits(topicNamed(req.name).id, change);
        state.apply({ topics: [updated] });
        return updated;
      });
      logger.info({ topic: row.name, retentionMs: row.retention_ms, retentionBytes: row.retention_bytes }, 'topic limits changed');
      return { topic: topicToProto(row) };
    },
  };
}

function toMoves(report: MoveReport) {
  return [
    ...report.moved.map((m) =>
      create(PartitionMoveSchema, { topicId: m.topicId, partitionId: m.partitionId, fromBrokerId: m.from ?? 0, toBrokerId: m.to, epoch: m.epoch }),
    ),
    ...report.failed.map((f) => create(PartitionMoveSchema, { topicId: f.topicId, partitionId: f.partitionId, error: f.reason })),
  ];
}
