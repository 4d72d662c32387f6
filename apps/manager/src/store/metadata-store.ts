import type { AckLevel, BrokerRow, BrokerState, ConsumerRow, Database, DrainReason, PartitionRow, ProducerRow, TopicRow } from '@partq/schema';
import { sql, type Kysely, type Transaction } from 'kysely';
import { PartqError } from '@partq/runtime';
import { applyOwnerChange, type PartitionOwnerChange } from './owner-change.js';

export interface LoadedMetadata {
  topics: TopicRow[];
  partitions: PartitionRow[];
  brokers: BrokerRow[];
  producers: ProducerRow[];
  consumers: ConsumerRow[];
}

/** A topic to create: its settings and its partitions' first owners (null: unassigned). */
export interface NewTopic {
  name: string;
  partitionCount: number;
  defaultAcks: AckLevel;
  /** Null: no time limit. */
  retentionMs: number | null;
  /** Null: no size limit. */
  retentionBytes: number | null;
  owners: (number | null)[];
}

/** A topic's limits to set (a number) or remove (null); a limit not named stays as it is. */
export type TopicLimitsChange = Partial<Pick<TopicRow, 'retention_ms' | 'retention_bytes'>>;

/** Metadata reads and writes of the Central DB; the manager is their only writer. */
export class MetadataStore {
  constructor(private readonly db: Kysely<Database>) {}

  async loadAll(): Promise<LoadedMetadata> {
    const [topics, partitions, brokers, producers, consumers] = await Promise.all([
      this.db.selectFrom('topics').selectAll().execute(),
      this.db.selectFrom('partitions').selectAll().execute(),
      this.db.selectFrom('brokers').selectAll().execute(),
      this.db.selectFrom('producers').selectAll().execute(),
      this.db.selectFrom('consumers').selectAll().execute(),
    ]);
    return { topics, partitions, brokers, producers, consumers };
  }

  /** Inserts a topic and its partitions; returns undefined when the name is taken. */
  async createTopic(input: NewTopic): Promise<{ topic: TopicRow; partitions: PartitionRow[] } | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const topic = await tx
        .insertInto('topics')
        .values({
          name: input.name,
          partition_count: input.partitionCount,
          default_acks: input.defaultAcks,
          retention_ms: input.retentionMs,
          retention_bytes: input.retentionBytes,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!topic) return undefined;
      const partitions = await tx
        .insertInto('partitions')
        .values(
          input.owners.map((brokerId, partitionId) => ({
            topic_id: topic.id,
            partition_id: partitionId,
            broker_id: brokerId,
            epoch: brokerId === null ? 0 : 1,
          })),
        )
        .returningAll()
        .execute();
      return { topic, partitions };
    });
  }

  async updateTopicLimits(topicId: number, change: TopicLimitsChange): Promise<TopicRow> {
    return this.db.updateTable('topics').set(change).where('id', '=', topicId).returningAll().executeTakeFirstOrThrow();
  }

  async registerBroker(address: string, knownId: number | undefined): Promise<BrokerRow> {
    const now = new Date();
    if (knownId !== undefined) {
      const row = await this.db
        .updateTable('brokers')
        // A broker being drained stays draining when it registers again (a restart, a lost link).
        .set({
          address,
          state: sql<BrokerState>`CASE WHEN state = 'draining' THEN 'draining' ELSE 'alive' END`,
          drain_reason: sql<DrainReason | null>`CASE WHEN state = 'draining' THEN drain_reason END`,
          last_heartbeat_at: now,
        })
        .where('id', '=', knownId)
        .returningAll()
        .executeTakeFirst();
      if (row) return row;
    }
    return this.db.insertInto('brokers').values({ address, state: 'alive', last_heartbeat_at: now }).returningAll().executeTakeFirstOrThrow();
  }

  async setBrokerState(id: number, state: BrokerState, lastHeartbeat?: Date): Promise<BrokerRow | undefined> {
    return this.db
      .updateTable('brokers')
      .set(lastHeartbeat ? { state, last_heartbeat_at: lastHeartbeat } : { state })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Marks a broker draining, for `reason`. An operator's drain outranks the manager's: a broker an
   * operator drained stays drained for them even when its disk fills up, and an operator's drain of
   * a broker drained for its disk makes it theirs.
   */
  async markBrokerDraining(id: number, reason: DrainReason): Promise<BrokerRow | undefined> {
    return this.db
      .updateTable('brokers')
      .set({
        state: 'draining',
        drain_reason: sql<DrainReason>`CASE WHEN state = 'draining' AND drain_reason = 'operator' THEN 'operator' ELSE ${reason} END`,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /** A draining broker back to alive; undefined when it is not draining (any more): then nothing changes. */
  async resumeDrainingBroker(id: number): Promise<BrokerRow | undefined> {
    return this.db
      .updateTable('brokers')
      .set({ state: 'alive', drain_reason: null })
      .where('id', '=', id)
      .where('state', '=', 'draining')
      .returningAll()
      .executeTakeFirst();
  }

  async recordBrokerHeartbeat(id: number, at: Date): Promise<void> {
    await this.db.updateTable('brokers').set({ last_heartbeat_at: at }).where('id', '=', id).execute();
  }

  /** Moves partitions to new owners with their new epochs, all or nothing. */
  async changeOwners(changes: PartitionOwnerChange[]): Promise<PartitionRow[]> {
    if (changes.length === 0) return [];
    return this.db.transaction().execute(async (tx) => {
      const rows: PartitionRow[] = [];
      for (const change of changes) {
        const row = await applyOwnerChange(tx, change);
        if (!row) throw new PartqError('UNAVAILABLE', `partition ${change.topicId}/${change.partitionId} already reached epoch ${change.epoch}`);
        rows.push(row);
      }
      return rows;
    });
  }

  /** A producer, in the health-check table from the moment it registers (registering is activity). */
  async createProducer(topicId: number, partitionId: number | undefined): Promise<ProducerRow> {
    return this.db.transaction().execute(async (tx) => {
      const producer = await tx
        .insertInto('producers')
        .values({ topic_id: topicId, partition_id: partitionId ?? null })
        .returningAll()
        .executeTakeFirstOrThrow();
      await upsertHealth(tx, 'producer', [producer.id], 'active', producer.last_activity_at);
      return producer;
    });
  }

  /** A consumer and its starting positions, in one transaction; in the health-check table as a producer is. */
  async createConsumer(
    topicId: number,
    partitionId: number | undefined,
    positions: { partitionId: number; nextOffset: number }[],
  ): Promise<ConsumerRow> {
    return this.db.transaction().execute(async (tx) => {
      const consumer = await tx
        .insertInto('consumers')
        .values({ topic_id: topicId, partition_id: partitionId ?? null })
        .returningAll()
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('consumer_positions')
        .values(positions.map((p) => ({ consumer_id: consumer.id, topic_id: topicId, partition_id: p.partitionId, next_offset: p.nextOffset })))
        .execute();
      await upsertHealth(tx, 'consumer', [consumer.id], 'active', consumer.last_activity_at);
      return consumer;
    });
  }

  async recordActivity(producerIds: number[], consumerIds: number[], at: Date): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (producerIds.length > 0) await tx.updateTable('producers').set({ last_activity_at: at }).where('id', 'in', producerIds).execute();
      if (consumerIds.length > 0) await tx.updateTable('consumers').set({ last_activity_at: at }).where('id', 'in', consumerIds).execute();
      await upsertHealth(tx, 'producer', producerIds, 'active', at);
      await upsertHealth(tx, 'consumer', consumerIds, 'active', at);
    });
  }

  /**
   * Removes the producers or consumers idle since before `idleBefore` with their health entries (a
   * consumer's positions and last delivery go with it); answers their ids.
   */
  async expireIdleClients(kind: 'producer' | 'consumer', idleBefore: Date): Promise<number[]> {
    return this.db.transaction().execute(async (tx) => {
      const gone = await tx.deleteFrom(kind === 'producer' ? 'producers' : 'consumers').where('last_activity_at', '<', idleBefore).returning('id').execute();
      const ids = gone.map((row) => row.id);
      if (ids.length > 0) await tx.deleteFrom('health_checks').where('kind', '=', kind).where('entity_id', 'in', ids).execute();
      return ids;
    });
  }

  async recordBrokerHealth(brokerId: number, status: string, at: Date): Promise<void> {
    await upsertHealth(this.db, 'broker', [brokerId], status, at);
  }

  async readHealth(): Promise<{ kind: string; entity_id: number; status: string; last_seen_at: Date }[]> {
    return this.db.selectFrom('health_checks').select(['kind', 'entity_id', 'status', 'last_seen_at']).orderBy('kind').orderBy('entity_id').execute();
  }
}

async function upsertHealth(
  db: Kysely<Database> | Transaction<Database>,
  kind: 'broker' | 'producer' | 'consumer',
  ids: number[],
  status: string,
  at: Date,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .insertInto('health_checks')
    .values(ids.map((id) => ({ kind, entity_id: id, status, last_seen_at: at })))
    .onConflict((oc) => oc.columns(['kind', 'entity_id']).doUpdateSet({ status: sql`excluded.status`, last_seen_at: sql`excluded.last_seen_at` }))
    .execute();
}
