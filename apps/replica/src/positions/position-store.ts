import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { supersededRunError } from '@partq/runtime';
import { PreparedStatement, type Database } from '@partq/schema';

/** A consumer's next offset per partition it is subscribed to. */
export type ConsumerPositions = ReadonlyMap<number, number>;

/** A consumer's last delivery: the records [from, to) of a partition, for request `requestId`. */
export interface Delivery {
  requestId: string;
  partitionId: number;
  from: number;
  to: number;
}

/**
 * Who moves a position: a unary consume (its request id, '' for none, makes a retry replay it) or a
 * run of a consume stream (its stream id lets it give back deliveries its client never handed out;
 * its run number, from `startRun`, fences it off once a later run of the stream started anywhere).
 */
export type Mover = { requestId: string } | { streamId: string; run: number };

/** Where a rewind moved a position, and from where. */
export interface Rewound {
  partitionId: number;
  from: number;
  to: number;
}

/** Consumers whose positions stay cached; the least recently used beyond this are dropped. */
const DEFAULT_MAX_CACHED_CONSUMERS = 100_000;

/*
 * The advances are compare-and-sets on the stored position, run once per delivery: prepared, so
 * PostgreSQL plans them once per connection (see PreparedStatement). `epoch` is null unless the
 * records lie past the high watermark (see `advance`).
 */

/**
 * A consume stream run's advance. Every right-hand side reads the row as it was: stream_from keeps
 * its value only when this stream moved the position last. Refused where a later run of the same
 * stream stamped its fence: the fence is in the row itself, so a run that started while this update
 * waited for the row is seen too.
 */
const ADVANCE_BY_STREAM = new PreparedStatement<
  object,
  [to: number, streamId: string, from: number, consumerId: number, partitionId: number, epoch: number | null, run: number]
>(
  'partq_replica_advance_by_stream',
  `UPDATE consumer_positions
   SET next_offset = $1::int8, updated_at = now(),
       stream_from = CASE WHEN stream_id = $2::text THEN stream_from ELSE $3::int8 END,
       stream_id = $2::text
   WHERE consumer_id = $4::int4 AND partition_id = $5::int4 AND next_offset = $3::int8
     AND ($6::int4 IS NULL OR epoch <= $6::int4)
     AND (fence_stream IS DISTINCT FROM $2::text OR fence_run <= $7::int8)`,
);

/** A unary consume's advance without a request id. */
const ADVANCE = new PreparedStatement<object, [to: number, consumerId: number, partitionId: number, from: number, epoch: number | null]>(
  'partq_replica_advance',
  `UPDATE consumer_positions
   SET next_offset = $1::int8, updated_at = now(), stream_id = NULL, stream_from = NULL
   WHERE consumer_id = $2::int4 AND partition_id = $3::int4 AND next_offset = $4::int8
     AND ($5::int4 IS NULL OR epoch <= $5::int4)`,
);

/** A unary consume's advance with a request id: one statement moves the position and records the delivery (both or neither). */
const ADVANCE_BY_REQUEST = new PreparedStatement<
  { consumer_id: number },
  [to: number, requestId: string, consumerId: number, partitionId: number, from: number, epoch: number | null]
>(
  'partq_replica_advance_by_request',
  `WITH moved AS (
     UPDATE consumer_positions SET next_offset = $1::int8, updated_at = now(), stream_id = NULL, stream_from = NULL
     WHERE consumer_id = $3::int4 AND partition_id = $4::int4 AND next_offset = $5::int8
       AND ($6::int4 IS NULL OR epoch <= $6::int4)
     RETURNING consumer_id
   )
   INSERT INTO consumer_deliveries (consumer_id, request_id, partition_id, from_offset, to_offset, delivered_at)
   SELECT consumer_id, $2::text, $4::int4, $5::int8, $1::int8, now() FROM moved
   ON CONFLICT (consumer_id) DO UPDATE SET request_id = excluded.request_id, partition_id = excluded.partition_id,
     from_offset = excluded.from_offset, to_offset = excluded.to_offset, delivered_at = excluded.delivered_at
   RETURNING consumer_id`,
);

/**
 * Consumer positions (consumer_positions in the Central DB), cached per consumer.
 *
 * The cache is only a guess: the gateway routes a consumer to one replica, but a consumer can move
 * (replica restart, gateway change) and another replica may advance its positions meanwhile. Every
 * advance is therefore a compare-and-set on the stored value; a miss means the cache was stale, and
 * the caller reloads and tries again. This is what keeps a message from being delivered twice.
 */
export class PositionStore {
  private readonly cache = new Map<number, Map<number, number>>();
  private readonly deliveries = new Map<number, Delivery | null>();

  /** `db` runs on `pool` (`databaseOn(pool)`): the advances use the pool directly, as prepared statements. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly pool: pg.Pool,
    private readonly maxCachedConsumers = DEFAULT_MAX_CACHED_CONSUMERS,
  ) {}

  /** The consumer's positions: cached, or loaded from the database on first use. */
  async positionsOf(consumerId: number): Promise<ConsumerPositions> {
    const cached = this.cache.get(consumerId);
    if (cached) {
      // Map order doubles as recency order for eviction.
      this.cache.delete(consumerId);
      this.cache.set(consumerId, cached);
      return cached;
    }
    return this.reload(consumerId);
  }

  /** Reads the consumer's positions from the database, replacing what was cached. */
  async reload(consumerId: number): Promise<ConsumerPositions> {
    const rows = await this.db
      .selectFrom('consumer_positions')
      .select(['partition_id', 'next_offset'])
      .where('consumer_id', '=', consumerId)
      .execute();
    const positions = new Map<number, number>();
    for (const row of rows) positions.set(row.partition_id, Number(row.next_offset));
    this.remember(consumerId, positions);
    return positions;
  }

  /**
   * Moves the consumer's position in a partition from `from` to `to`, only if it still is `from` in
   * the database. Resolves true once the new position is committed, false when someone else moved it
   * first (the cache is dropped then; reload and retry). Rejects when the outcome is unknown (the
   * database failed): the cache is dropped too, and nothing must be delivered.
   *
   * A stream's advance remembers the stream and, when it takes the position over from someone else,
   * where its deliveries began (`stream_from`): the floor of its rewinds. A unary consume clears both,
   * so a stream never gives back what it did not deliver last.
   *
   * `readUnder` is the partition epoch the records were read under, for records past the high
   * watermark (read from the owning broker, not yet committed): the advance is refused (false) when
   * a dead owner's partition was handed over since, as those records may be the ones it took with it.
   */
  async advance(
    consumerId: number,
    partitionId: number,
    from: number,
    to: number,
    by: Mover = { requestId: '' },
    readUnder?: number,
  ): Promise<boolean> {
    if (to < from) throw new RangeError(`a position only moves forward (${from} -> ${to})`);
    const epoch = readUnder ?? null;
    let updated: number;
    try {
      if ('streamId' in by) {
        updated = (await ADVANCE_BY_STREAM.run(this.pool, [to, by.streamId, from, consumerId, partitionId, epoch, by.run])).rowCount ?? 0;
      } else if (by.requestId === '') {
        updated = (await ADVANCE.run(this.pool, [to, consumerId, partitionId, from, epoch])).rowCount ?? 0;
      } else {
        updated = (await ADVANCE_BY_REQUEST.run(this.pool, [to, by.requestId, consumerId, partitionId, from, epoch])).rows.length;
        if (updated === 1) this.deliveries.set(consumerId, { requestId: by.requestId, partitionId, from, to });
      }
    } catch (error) {
      this.forget(consumerId);
      throw error;
    }
    if (updated === 0) {
      this.forget(consumerId);
      if ('streamId' in by && (await this.fencedOff(consumerId, partitionId, by))) {
        throw supersededRunError(`a later run of stream ${by.streamId} took consumer ${consumerId} over; reconnect`, {
          consumerId,
          streamId: by.streamId,
        });
      }
      return false;
    }
    const cached = this.cache.get(consumerId);
    if (cached) cached.set(partitionId, to);
    return true;
  }

  /**
   * Starts a run of consume stream `streamId` (its client connected or reconnected, through any
   * replica) or ends its runs (Release): takes a new run number and stamps it, with the stream id,
   * on every position of the consumer. From then on no earlier run of the stream moves a position,
   * on whatever replica it still runs: a run whose client went elsewhere could otherwise commit a
   * delivery after the new run gave back what the client missed, and that delivery was lost.
   * Call it before `rewind`. Returns the run number, for the run's advances.
   */
  async startRun(consumerId: number, streamId: string): Promise<number> {
    const { rows } = await sql<{ run: string }>`
      WITH next AS (SELECT nextval('consumer_stream_runs') AS run),
      stamped AS (
        UPDATE consumer_positions AS cp SET fence_stream = ${streamId}, fence_run = next.run
        FROM next
        WHERE cp.consumer_id = ${consumerId} AND (cp.fence_stream IS DISTINCT FROM ${streamId} OR cp.fence_run < next.run)
      )
      SELECT run FROM next
    `.execute(this.db);
    return Number(rows[0]!.run);
  }

  /** Whether a later run of the mover's stream fenced this position off. */
  private async fencedOff(consumerId: number, partitionId: number, by: { streamId: string; run: number }): Promise<boolean> {
    const row = await this.db
      .selectFrom('consumer_positions')
      .select('fence_run')
      .where('consumer_id', '=', consumerId)
      .where('partition_id', '=', partitionId)
      .where('fence_stream', '=', by.streamId)
      .where('fence_run', '>', by.run)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Gives back what stream `streamId` delivered but its client did not hand out. Per partition the
   * position moves back to the client's `next` offset (0 for a partition not listed: the client got
   * nothing from it), but never below where the stream's deliveries began, and only where this
   * stream moved the position last: deliveries of anyone else are never given back. The stream's
   * floor (`stream_from`) then rises to the client's `next` where it listed one: the client has
   * handed those messages out and will not ask for them again. The consumer's cached positions are
   * dropped (they may now be ahead of the database). Returns what moved.
   */
  async rewind(consumerId: number, streamId: string, next: ReadonlyMap<number, number>): Promise<Rewound[]> {
    const partitionIds = [...next.keys()];
    const offsets = partitionIds.map((id) => next.get(id)!);
    this.forget(consumerId);
    const result = await sql<{ partition_id: number; next_offset: number; previous: number }>`
      UPDATE consumer_positions AS cp
      SET next_offset = GREATEST(wanted.next, cp.stream_from), updated_at = now()
      FROM (
        SELECT mine.partition_id, mine.next_offset AS previous, COALESCE(given.next, 0) AS next
        FROM consumer_positions AS mine
        LEFT JOIN unnest(${partitionIds}::int[], ${offsets}::bigint[]) AS given(partition_id, next) ON given.partition_id = mine.partition_id
        WHERE mine.consumer_id = ${consumerId}
      ) AS wanted
      WHERE cp.consumer_id = ${consumerId} AND cp.partition_id = wanted.partition_id
        AND cp.stream_id = ${streamId} AND GREATEST(wanted.next, cp.stream_from) < cp.next_offset
      RETURNING cp.partition_id, cp.next_offset, wanted.previous
    `.execute(this.db);
    await this.raiseFloor(consumerId, streamId, next);
    // Dropped again: a consume that loaded positions while the update ran may hold the old ones.
    this.forget(consumerId);
    return result.rows.map((row) => ({ partitionId: row.partition_id, from: Number(row.previous), to: Number(row.next_offset) }));
  }

  /**
   * What the client of stream `streamId` handed out it never asks for again: per partition listed,
   * the stream's floor (`stream_from`) rises to the client's `next`, never past the position and
   * never down, and only where this stream moved the position last. Retention, which keeps a
   * stream's position from its floor on, may then delete below it. The positions do not move, so
   * the cache stays, and a stream may go on delivering meanwhile (each row updates atomically).
   */
  async raiseFloor(consumerId: number, streamId: string, next: ReadonlyMap<number, number>): Promise<void> {
    if (next.size === 0) return;
    const partitionIds = [...next.keys()];
    const offsets = partitionIds.map((id) => next.get(id)!);
    await sql`
      UPDATE consumer_positions AS cp
      SET stream_from = LEAST(given.next, cp.next_offset)
      FROM unnest(${partitionIds}::int[], ${offsets}::bigint[]) AS given(partition_id, next)
      WHERE cp.consumer_id = ${consumerId} AND cp.partition_id = given.partition_id
        AND cp.stream_id = ${streamId} AND LEAST(given.next, cp.next_offset) > cp.stream_from
    `.execute(this.db);
  }

  /** The consumer's last delivery made with a request id (null when none), cached like positions. */
  async lastDelivery(consumerId: number): Promise<Delivery | null> {
    const cached = this.deliveries.get(consumerId);
    if (cached !== undefined) return cached;
    const row = await this.db
      .selectFrom('consumer_deliveries')
      .select(['request_id', 'partition_id', 'from_offset', 'to_offset'])
      .where('consumer_id', '=', consumerId)
      .executeTakeFirst();
    const delivery = row ? { requestId: row.request_id, partitionId: row.partition_id, from: row.from_offset, to: row.to_offset } : null;
    this.deliveries.set(consumerId, delivery);
    if (this.deliveries.size > this.maxCachedConsumers) this.deliveries.delete(this.deliveries.keys().next().value!);
    return delivery;
  }

  /** The cached consumers and their positions (metrics). */
  cached(): IterableIterator<[number, ReadonlyMap<number, number>]> {
    return this.cache.entries();
  }

  /** Drops the cached positions and deliveries of every consumer that `test` picks. */
  forgetIf(test: (consumerId: number) => boolean): void {
    for (const consumerId of [...this.cache.keys()]) if (test(consumerId)) this.forget(consumerId);
  }

  forget(consumerId: number): void {
    this.cache.delete(consumerId);
    this.deliveries.delete(consumerId);
  }

  private remember(consumerId: number, positions: Map<number, number>): void {
    this.cache.delete(consumerId);
    this.cache.set(consumerId, positions);
    while (this.cache.size > this.maxCachedConsumers) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
  }
}
