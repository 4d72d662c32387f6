import type { ColumnType, GeneratedAlways, Insertable, Selectable, Updateable } from 'kysely';

/*
 * Column conventions (they hold because of the pool created in connection.ts):
 * - bigint (int8) reads as a JS number; offsets, ids and sizes stay below 2^53.
 * - timestamptz reads as a Date and accepts a Date or an ISO string.
 * - bytea reads as a Buffer and accepts any Uint8Array; payloads are bytes, never text.
 * - ids are identity columns GENERATED ALWAYS: PostgreSQL assigns them, inserts never do.
 * - jsonb reads as the parsed value; writes take a plain object (pg would turn a top-level
 *   array into a PostgreSQL array literal, so arrays must sit inside an object).
 */

/** A bigint column the caller must always supply. */
export type Int8 = ColumnType<number, number, number>;
/** A bigint column with a database default. */
export type Int8WithDefault = ColumnType<number, number | undefined, number>;
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamptz column that defaults to now(). */
export type TimestampDefaultNow = ColumnType<Date, Date | string | undefined, Date | string>;
export type Bytes = ColumnType<Buffer, Uint8Array, Uint8Array>;

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** When an append is acknowledged: after the broker's WAL fsync, or after the commit in Postgres. */
export type AckLevel = 'broker' | 'all';
export type BrokerState = 'alive' | 'dead' | 'draining';
/** Why a broker is draining: an operator's DrainBroker, or the manager's, for a full disk. */
export type DrainReason = 'operator' | 'disk_full';
export type HealthCheckKind = 'broker' | 'producer' | 'consumer';

export interface TopicsTable {
  id: GeneratedAlways<number>;
  /** 1-249 of [A-Za-z0-9._-], unique. */
  name: string;
  partition_count: number;
  created_at: TimestampDefaultNow;
  /** Delete a partition's records older than this (by append time), consumed or not. Null: no limit. */
  retention_ms: ColumnType<number | null, number | null | undefined, number | null>;
  /** Keep at most this many record bytes (payloads, keys and their framing) per partition, consumed or not. Null: no limit. */
  retention_bytes: ColumnType<number | null, number | null | undefined, number | null>;
  default_acks: ColumnType<AckLevel, AckLevel | undefined, AckLevel>;
}

export interface BrokersTable {
  id: GeneratedAlways<number>;
  /** Connect URL of the broker's data-plane service. */
  address: string;
  state: ColumnType<BrokerState, BrokerState | undefined, BrokerState>;
  /** Why it is draining; null while it is not (a stale value on a dead broker is ignored). */
  drain_reason: ColumnType<DrainReason | null, DrainReason | null | undefined, DrainReason | null>;
  registered_at: TimestampDefaultNow;
  last_heartbeat_at: TimestampDefaultNow;
}

export interface PartitionsTable {
  topic_id: number;
  partition_id: number;
  /** Owning broker; null while unassigned. */
  broker_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** Lease generation: bumped on every reassignment, so a deposed broker's appends are refused. */
  epoch: ColumnType<number, number | undefined, number>;
  /** Offsets below this were deleted by retention (the "bias"). */
  log_start_offset: Int8WithDefault;
  /** Offsets below this are committed in the record_batches table. */
  high_watermark: Int8WithDefault;
  /** The bytes of the records of the partition's record_batches rows (what `retention_bytes` limits). */
  stored_bytes: Int8WithDefault;
}

export interface ProducersTable {
  id: GeneratedAlways<number>;
  topic_id: number;
  /** Set when the producer registered for a single partition. */
  partition_id: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: TimestampDefaultNow;
  last_activity_at: TimestampDefaultNow;
}

export interface ConsumersTable {
  id: GeneratedAlways<number>;
  topic_id: number;
  /** Null for a consumer of the whole topic. */
  partition_id: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: TimestampDefaultNow;
  last_activity_at: TimestampDefaultNow;
}

export interface ConsumerPositionsTable {
  consumer_id: number;
  partition_id: number;
  topic_id: number;
  /** The next offset this consumer will read from the partition. */
  next_offset: Int8;
  updated_at: TimestampDefaultNow;
  /** The consume stream that last moved the position; null when a unary consume did. */
  stream_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Where the deliveries of `stream_id` on this partition began (a rewind goes no lower). */
  stream_from: ColumnType<number | null, number | null | undefined, number | null>;
  /**
   * The partition's epoch at the last handover of a dead owner's partition: past the high watermark
   * the position moves only with records read under this epoch or a later one.
   */
  epoch: ColumnType<number, number | undefined, number>;
  /** The consume stream whose latest run stamped this row (every row of the consumer), with that run's number. */
  fence_stream: ColumnType<string | null, string | null | undefined, string | null>;
  /** A run of `fence_stream` numbered below this may no longer move the position (migration 0011). */
  fence_run: ColumnType<number | null, number | null | undefined, number | null>;
}

/** The last delivery of a consumer: a retried consume with the same request id gets it again. */
export interface ConsumerDeliveriesTable {
  consumer_id: number;
  request_id: string;
  partition_id: number;
  /** The delivered records are [from_offset, to_offset) of the partition. */
  from_offset: Int8;
  to_offset: Int8;
  delivered_at: TimestampDefaultNow;
}

/**
 * Committed records: a run of a partition's consecutive records per row, [base_offset,
 * next_offset), as the bytes of a partq.v1.RecordBatch (the broker's stored records, end to end).
 */
export interface RecordBatchesTable {
  topic_id: number;
  partition_id: number;
  base_offset: Int8;
  next_offset: Int8;
  records: Bytes;
  /**
   * The producer sequences of those records, as runs (one producer, offsets and sequences rising by
   * one): 24 bytes each, big-endian producer id (int4), first sequence (int8), first offset (int8),
   * count (int4). A broker taking a partition over reads these, not the records.
   */
  sequences: Bytes;
  /** The newest append time (ms since the epoch) of the row's records (what `retention_ms` limits). */
  last_timestamp_ms: Int8;
}

/** The most record bytes one record_batches row holds (a single larger record gets a row of its own): the row stays on its 8 KB heap page. */
export const RECORD_BATCH_ROW_BYTES = 8000;

export interface HealthChecksTable {
  kind: HealthCheckKind;
  entity_id: number;
  status: string;
  last_seen_at: TimestampDefaultNow;
  detail: ColumnType<JsonObject | null, JsonObject | null | undefined, JsonObject | null>;
}

/** The Central DB as Kysely sees it. */
export interface Database {
  topics: TopicsTable;
  brokers: BrokersTable;
  partitions: PartitionsTable;
  producers: ProducersTable;
  consumers: ConsumersTable;
  consumer_positions: ConsumerPositionsTable;
  consumer_deliveries: ConsumerDeliveriesTable;
  record_batches: RecordBatchesTable;
  health_checks: HealthChecksTable;
}

export type TopicRow = Selectable<TopicsTable>;
export type NewTopicRow = Insertable<TopicsTable>;
export type TopicRowUpdate = Updateable<TopicsTable>;

export type BrokerRow = Selectable<BrokersTable>;
export type NewBrokerRow = Insertable<BrokersTable>;
export type BrokerRowUpdate = Updateable<BrokersTable>;

export type PartitionRow = Selectable<PartitionsTable>;
export type NewPartitionRow = Insertable<PartitionsTable>;
export type PartitionRowUpdate = Updateable<PartitionsTable>;

export type ProducerRow = Selectable<ProducersTable>;
export type NewProducerRow = Insertable<ProducersTable>;
export type ProducerRowUpdate = Updateable<ProducersTable>;

export type ConsumerRow = Selectable<ConsumersTable>;
export type NewConsumerRow = Insertable<ConsumersTable>;
export type ConsumerRowUpdate = Updateable<ConsumersTable>;

export type ConsumerPositionRow = Selectable<ConsumerPositionsTable>;
export type NewConsumerPositionRow = Insertable<ConsumerPositionsTable>;
export type ConsumerPositionRowUpdate = Updateable<ConsumerPositionsTable>;

export type ConsumerDeliveryRow = Selectable<ConsumerDeliveriesTable>;

export type RecordBatchRow = Selectable<RecordBatchesTable>;
export type NewRecordBatchRow = Insertable<RecordBatchesTable>;

export type HealthCheckRow = Selectable<HealthChecksTable>;
export type NewHealthCheckRow = Insertable<HealthChecksTable>;
export type HealthCheckRowUpdate = Updateable<HealthChecksTable>;
