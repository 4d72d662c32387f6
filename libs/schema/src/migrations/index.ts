import type { Migration } from 'kysely';
import { metadataMigration } from './0001_metadata.js';
import { clientsMigration } from './0002_clients.js';
import { messagesMigration } from './0003_messages.js';
import { healthChecksMigration } from './0004_health_checks.js';
import { consumerDeliveriesMigration } from './0005_consumer_deliveries.js';
import { consumerStreamsMigration } from './0006_consumer_streams.js';
import { dropUnusedSequenceIndexMigration } from './0007_drop_unused_sequence_index.js';
import { positionEpochsMigration } from './0008_position_epochs.js';
import { hotPositionUpdatesMigration } from './0009_hot_position_updates.js';
import { recordBatchesMigration } from './0010_record_batches.js';
import { streamFencesMigration } from './0011_stream_fences.js';
import { retentionLimitsMigration } from './0012_retention_limits.js';
import { brokerDrainReasonMigration } from './0013_broker_drain_reason.js';

/**
 * Every migration by name. Kysely applies them in name order, so new ones take the next number;
 * an applied migration is never edited, only followed by another.
 */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_metadata': metadataMigration,
  '0002_clients': clientsMigration,
  '0003_messages': messagesMigration,
  '0004_health_checks': healthChecksMigration,
  '0005_consumer_deliveries': consumerDeliveriesMigration,
  '0006_consumer_streams': consumerStreamsMigration,
  '0007_drop_unused_sequence_index': dropUnusedSequenceIndexMigration,
  '0008_position_epochs': positionEpochsMigration,
  '0009_hot_position_updates': hotPositionUpdatesMigration,
  '0010_record_batches': recordBatchesMigration,
  '0011_stream_fences': streamFencesMigration,
  '0012_retention_limits': retentionLimitsMigration,
  '0013_broker_drain_reason': brokerDrainReasonMigration,
});
