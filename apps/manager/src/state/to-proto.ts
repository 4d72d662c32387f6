import { create } from '@bufbuild/protobuf';
import {
  Acks,
  BrokerSchema,
  BrokerState,
  ConsumerSchema,
  PartitionSchema,
  ProducerSchema,
  TopicSchema,
  type Broker,
  type Consumer,
  type Partition,
  type Producer,
  type Topic,
} from '@partq/proto';
import type { BrokerRow, ConsumerRow, PartitionRow, ProducerRow, TopicRow } from '@partq/schema';

// Rows of the Central DB as the protocol's messages.

export function topicToProto(row: TopicRow): Topic {
  return create(TopicSchema, {
    id: row.id,
    name: row.name,
    partitionCount: row.partition_count,
    defaultAcks: row.default_acks === 'all' ? Acks.ALL : Acks.BROKER,
    retentionMs: row.retention_ms === null ? undefined : BigInt(row.retention_ms),
    retentionBytes: row.retention_bytes === null ? undefined : BigInt(row.retention_bytes),
  });
}

export function partitionToProto(row: PartitionRow): Partition {
  return create(PartitionSchema, {
    topicId: row.topic_id,
    partitionId: row.partition_id,
    brokerId: row.broker_id ?? 0,
    epoch: row.epoch,
    logStartOffset: BigInt(row.log_start_offset),
    highWatermark: BigInt(row.high_watermark),
    storedBytes: BigInt(row.stored_bytes),
  });
}

const brokerStates = { alive: BrokerState.ALIVE, dead: BrokerState.DEAD, draining: BrokerState.DRAINING } as const;

export function brokerToProto(row: BrokerRow): Broker {
  return create(BrokerSchema, {
    id: row.id,
    address: row.address,
    state: brokerStates[row.state],
    lastHeartbeatMs: BigInt(row.last_heartbeat_at.getTime()),
    drainReason: row.state === 'draining' ? (row.drain_reason ?? 'operator') : '',
  });
}

export function producerToProto(row: ProducerRow): Producer {
  return create(ProducerSchema, { id: row.id, topicId: row.topic_id, partitionId: row.partition_id ?? undefined });
}

export function consumerToProto(row: ConsumerRow): Consumer {
  return create(ConsumerSchema, { id: row.id, topicId: row.topic_id, partitionId: row.partition_id ?? undefined });
}
