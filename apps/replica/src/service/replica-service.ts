import { create } from '@bufbuild/protobuf';
import type { Client, HandlerContext } from '@connectrpc/connect';
import type { ActivityReporter, MetadataView } from '@partq/cluster';
import {
  CheckpointResponseSchema,
  ConsumeResponseSchema,
  ConsumeStreamResponseSchema,
  PartitionSizeSchema,
  ReleaseResponseSchema,
  SizeResponseSchema,
  encodeConsumedMessages,
  type CheckpointRequest,
  type CheckpointResponse,
  type Consumer,
  type ConsumeRequest,
  type ConsumeResponse,
  type ConsumeStreamRequest,
  type ConsumeStreamResponse,
  type EncodedConsumedMessages,
  type ManagerService,
  type Partition,
  type PartitionOffset,
  type ReleaseRequest,
  type ReleaseResponse,
  type SizeRequest,
  type SizeResponse,
  type Topic,
} from '@partq/proto';
import { PartqError, sleep, supersededRunError, withWireBytes, type Logger } from '@partq/runtime';
import type { EndOffsets } from '../fetch/end-offsets.js';
import type { FetchedRecord } from '../fetch/fetched-record.js';
import type { PartitionRead, PartitionReader } from '../fetch/partition-reader.js';
import type { ReplicaMetrics } from '../metrics.js';
import { KeyedMutex } from '@partq/runtime';
import type { Mover, PositionStore, Rewound } from '../positions/position-store.js';
import type { ArrivalWatch } from './arrival-watch.js';
import { everyPartition, type ConsumeScope } from './consume-scope.js';
import { PartitionCursor } from './partition-cursor.js';
import type { StreamArrivals } from './stream-arrivals.js';
import { StreamRuns, type StreamRun } from './stream-runs.js';

export interface ReplicaServiceOptions {
  view: MetadataView;
  positions: PositionStore;
  reader: PartitionReader;
  endOffsets: EndOffsets;
  /** Tells a consume stream with nothing to deliver when to look again. */
  arrivals: ArrivalWatch;
  /** How often an idle consume stream sends an empty response, so a dead path is noticed. Default 10 s. */
  heartbeatMs?: number;
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
const DEFAULT_HEARTBEAT_MS = 10_000;
/** Longest stream id a client may choose. */
const MAX_STREAM_ID_LENGTH = 128;
/** A wake-up of an idle stream sooner than this that delivered nothing counts as a quick one. */
const QUICK_WAKE_MS = 20;
/** Quick wake-ups in a row an idle stream allows before it pauses (a source that keeps answering "look now" in vain). */
const QUICK_WAKES_ALLOWED = 3;
const QUICK_WAKE_PAUSE_MS = 1000;

/**
 * ReplicaService: consumes and sizes for consumers. A consume takes the next messages of one
 * partition in offset order, commits the consumer's new position in PostgreSQL, and only then
 * answers, so neither a restart nor a move to another replica can skip or repeat a message.
 */
export class ReplicaServiceImpl {
  private readonly consumers = new KeyedMutex<number>();
  private readonly cursor = new PartitionCursor();
  private readonly streams = new StreamRuns();
  private stopping = false;

  constructor(private readonly options: ReplicaServiceOptions) {}

  async consume(request: ConsumeRequest): Promise<ConsumeResponse> {
    const started = performance.now();
    let outcome = 'error';
    try {
      if (request.maxMessages < 0) throw new PartqError('INVALID_ARGUMENT', 'max_messages must not be negative');
      const { consumer, topic } = await this.subscription(request.consumerId, request.topic);
      const partitionIds = this.partitionsToRead(consumer, topic, request.partitionId);
      const max = Math.min(Math.max(request.maxMessages, 1), this.options.fetchMaxRecords);
      // Round robin only when the consumer leaves the choice to us.
      const rotate = request.partitionId === undefined && consumer.partitionId === undefined;
      const { messages, bytes } = await this.consumers.run(consumer.id, async () => {
        const replay = request.requestId === '' ? undefined : await this.replay(consumer, topic, request.requestId);
        return replay ?? this.consumeInTurn(consumer, topic, everyPartition(partitionIds), max, rotate, { requestId: request.requestId });
      });
      outcome = messages.length > 0 ? 'messages' : 'empty';
      if (messages.length > 0) this.options.metrics?.consumedMessages.inc({ topic: topic.name }, messages.length);
      return withWireBytes(create(ConsumeResponseSchema, { messages }), bytes);
    } finally {
      this.options.metrics?.consumeDuration.series({ outcome }).observe((performance.now() - started) / 1000);
    }
  }

  /**
   * A consume stream: first gives back what earlier runs of this stream id delivered past the
   * client's `resume` offsets, then delivers like consume (position committed before each response)
   * for as long as the client stays. With nothing pending it waits for records (ArrivalWatch) and
   * sends an empty response at once and then every heartbeat while idle.
   */
  async *consumeStream(request: ConsumeStreamRequest, context: HandlerContext): AsyncGenerator<ConsumeStreamResponse> {
    if (request.maxMessages < 0) throw new PartqError('INVALID_ARGUMENT', 'max_messages must not be negative');
    checkStreamId(request.streamId);
    const resume = offsetsByPartition(request.resume, 'resume');
    const { consumer, topic } = await this.subscription(request.consumerId, request.topic);
    const partitionIds = this.partitionsToRead(consumer, topic, request.partitionId);
    const max = Math.min(Math.max(request.maxMessages, 1), this.options.fetchMaxRecords);
    const rotate = request.partitionId === undefined && consumer.partitionId === undefined;
    if (this.stopping) throw new PartqError('UNAVAILABLE', 'the replica is shutting down; reconnect');
    const heartbeatMs = this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    const { metrics } = this.options;

    const run = this.streams.open(consumer.id, request.streamId);
    const stop = new AbortController();
    const follow = (): void => stop.abort();
    context.signal.addEventListener('abort', follow, { once: true });
    run.signal.addEventListener('abort', follow, { once: true });
    metrics?.openStreams.inc();
    // Which partitions to look at: all at first (from their source), then those with news since.
    const arrivals = this.options.arrivals.follow(topic.id, partitionIds);
    try {
      // A run number fences off the stream's earlier runs, here and on other replicas, before the rewind.
      const mover: Mover = await this.consumers.run(consumer.id, async () => {
        assertCurrent(run);
        const started = { streamId: request.streamId, run: await this.options.positions.startRun(consumer.id, request.streamId) };
        this.noteRewind(consumer.id, request.streamId, await this.options.positions.rewind(consumer.id, request.streamId, resume), 'resumed');
        return started;
      });
      let heartbeatDue = Date.now();
      let quickWakes = 0;
      while (!stop.signal.aborted) {
        const { messages, bytes } = await this.consumers.run(consumer.id, async () => {
          assertCurrent(run);
          return this.consumeInTurn(consumer, topic, arrivals, max, rotate, mover);
        });
        this.options.activity?.consumerActive(consumer.id);
        if (messages.length > 0) {
          metrics?.consumedMessages.inc({ topic: topic.name }, messages.length);
          metrics?.streamResponses.inc({ kind: 'messages' });
          quickWakes = 0;
          yield withWireBytes(create(ConsumeStreamResponseSchema, { messages }), bytes);
          heartbeatDue = Date.now() + heartbeatMs;
          // Partitions found empty on the way are waited on while the stream delivers from the others.
          await this.watchFound(consumer.id, topic, arrivals);
          continue;
        }
        if (Date.now() >= heartbeatDue) {
          metrics?.streamResponses.inc({ kind: 'heartbeat' });
          yield create(ConsumeStreamResponseSchema, {});
          heartbeatDue = Date.now() + heartbeatMs;
        }
        const started = Date.now();
        await this.watchFound(consumer.id, topic, arrivals);
        // Idle until the heartbeat: look everywhere again, as a check that no news was missed.
        if ((await arrivals.next(heartbeatDue, stop.signal)) === 'timeout') arrivals.lookEverywhere();
        metrics?.streamWakeups.inc();
        quickWakes = Date.now() - started < QUICK_WAKE_MS ? quickWakes + 1 : 0;
        if (quickWakes >= QUICK_WAKES_ALLOWED) await pause(Math.min(QUICK_WAKE_PAUSE_MS, heartbeatDue - Date.now()), stop.signal);
      }
      // A run that was superseded says so; one whose client left ends quietly (nobody listens).
      assertCurrent(run);
    } finally {
      arrivals.close();
      context.signal.removeEventListener('abort', follow);
      run.signal.removeEventListener('abort', follow);
      run.close();
      metrics?.openStreams.dec();
    }
  }

  /** Ends every consume stream (UNAVAILABLE: their clients reconnect elsewhere) and refuses new ones: shutdown. */
  stopStreams(): void {
    this.stopping = true;
    this.streams.endAll();
  }

  /**
   * The client of stream `stream_id` stopped reading: stops the stream's run here and gives back
   * what it delivered past the client's `next` offsets (see PositionStore.rewind).
   */
  async release(request: ReleaseRequest): Promise<ReleaseResponse> {
    checkStreamId(request.streamId);
    const next = offsetsByPartition(request.next, 'next');
    const { consumer } = await this.subscription(request.consumerId, request.topic);
    this.streams.end(consumer.id, request.streamId);
    const rewound = await this.consumers.run(consumer.id, async () => {
      // Ends the stream's runs on other replicas too: none may deliver after what it gives back.
      await this.options.positions.startRun(consumer.id, request.streamId);
      return this.options.positions.rewind(consumer.id, request.streamId, next);
    });
    this.noteRewind(consumer.id, request.streamId, rewound, 'released');
    return create(ReleaseResponseSchema, {});
  }

  /**
   * The client of stream `stream_id` handed out everything before its `next` offsets: the stream's
   * floor rises there (see PositionStore.raiseFloor), so retention may delete it. The stream's run
   * goes on undisturbed; nothing is given back.
   */
  async checkpoint(request: CheckpointRequest): Promise<CheckpointResponse> {
    checkStreamId(request.streamId);
    const next = offsetsByPartition(request.next, 'next');
    const { consumer } = await this.subscription(request.consumerId, request.topic);
    await this.options.positions.raiseFloor(consumer.id, request.streamId, next);
    return create(CheckpointResponseSchema, {});
  }

  private noteRewind(consumerId: number, streamId: string, rewound: Rewound[], how: 'resumed' | 'released'): void {
    if (rewound.length === 0) return;
    this.options.metrics?.rewoundMessages.inc(rewound.reduce((sum, r) => sum + r.from - r.to, 0));
    this.options.logger.debug({ consumerId, streamId, rewound }, `stream ${how}: messages delivered but not handed out given back`);
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
   * A retry of the consumer's last request (its answer was lost on the way): the same records
   * again, and the position stays where that delivery left it.
   */
  private async replay(consumer: Consumer, topic: Topic, requestId: string): Promise<EncodedConsumedMessages | undefined> {
    const last = await this.options.positions.lastDelivery(consumer.id);
    if (!last || last.requestId !== requestId) return undefined;
    const partition = this.existingPartitions(topic, [last.partitionId])[0];
    if (!partition) return undefined;
    const replayed: FetchedRecord[] = [];
    for (let offset = last.from; offset < last.to; ) {
      const read = await this.options.reader.read(partition, offset, last.to - offset);
      const records = read.records.filter((r) => r.offset >= offset && r.offset < last.to);
      if (records.length === 0) break; // deleted by retention since: nothing more to give back
      replayed.push(...records);
      offset = records[records.length - 1]!.offset + 1;
    }
    this.options.metrics?.replayedConsumes.inc();
    return encodeConsumedMessages(partition.partitionId, replayed);
  }

  /**
   * One consume under the consumer's lock: the first partition in turn (of those `scope` names)
   * that has messages gives up to `max` of them, and the position moves past them in the database
   * before they are returned.
   */
  private async consumeInTurn(
    consumer: Consumer,
    topic: Topic,
    scope: ConsumeScope,
    max: number,
    rotate: boolean,
    mover: Mover,
  ): Promise<EncodedConsumedMessages> {
    const { reader, view } = this.options;
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
      scope.seePositions(positions);
      const candidates = scope.candidates();
      const order = rotate ? this.cursor.order(consumer.id, candidates) : candidates;
      let ends: Map<number, number> | undefined;
      let missingPosition = false;
      let conflict = false;
      for (const partitionId of order) {
        const partition = view.partition(topic.id, partitionId);
        const position = positions.get(partitionId);
        if (!partition) {
          scope.nothingAt(partitionId);
          continue;
        }
        if (position === undefined) {
          // Positions are written when the consumer registers; a missing one is not ours to invent.
          missingPosition = true;
          scope.nothingAt(partitionId);
          continue;
        }
        let read: PartitionRead | undefined = reader.readCached(partition, position, max);
        // A read ahead of this delivery is under way: its records are on their way to the cache.
        if (!read && reader.readingAhead(partition, position)) read = await reader.read(partition, position, max);
        if (!read && !scope.fromSource(partitionId)) {
          scope.nothingAt(partitionId);
          continue;
        }
        if (!read) {
          // With several partitions to look at, one GetOffsets per broker tells which have messages,
          // instead of a Fetch per empty partition.
          if (order.length > 1) {
            ends ??= await this.endsToLookUp(topic, order, positions, scope);
            // Skip only what is known to be empty: an owner that did not answer may still hold messages.
            const end = ends.get(partitionId);
            if (end !== undefined && end <= Math.max(position, Number(partition.logStartOffset))) {
              scope.nothingAt(partitionId);
              continue;
            }
          }
          read = await reader.read(partition, position, max);
        }
        const last = read.records[read.records.length - 1];
        const to = last ? last.offset + 1 : read.from;
        if (to === position) {
          scope.nothingAt(partitionId);
          continue;
        }
        // A jump over deleted records is no delivery: it must not replace the one a retry would replay.
        const by: Mover = 'requestId' in mover && read.records.length === 0 ? { requestId: '' } : mover;
        // Past the high watermark the records are the owner's alone: they count only under its epoch.
        const readUnder = to > Number(partition.highWatermark) ? partition.epoch : undefined;
        // A full delivery means more is waiting: fetch it while the position is committed.
        if (read.records.length === max) reader.readAhead(partition, to, max);
        const advanced = await this.options.positions.advance(consumer.id, partitionId, position, to, by, readUnder);
        if (!advanced) {
          this.options.logger.debug({ consumerId: consumer.id, partitionId, position }, 'position moved elsewhere; reloading');
          scope.lookEverywhere();
          conflict = true;
          break;
        }
        // A jump over records deleted by retention moves the position but delivers nothing (the
        // partition stays to be looked at from where it jumped to).
        if (read.records.length === 0) continue;
        if (rotate) this.cursor.served(consumer.id, partitionId);
        scope.delivered(partitionId);
        return encodeConsumedMessages(partitionId, read.records);
      }
      if (!conflict) {
        if (missingPosition) this.options.positions.forget(consumer.id);
        return encodeConsumedMessages(0, []);
      }
    }
  }

  /**
   * End offsets of the partitions a consume may have to read from their source: those not in the
   * read-ahead cache that `scope` says to read there. None when that is one partition at most: a
   * Fetch costs what a GetOffsets does.
   */
  private async endsToLookUp(
    topic: Topic,
    partitionIds: readonly number[],
    positions: ReadonlyMap<number, number>,
    scope: ConsumeScope,
  ): Promise<Map<number, number>> {
    const unknown: Partition[] = [];
    for (const id of partitionIds) {
      const partition = this.options.view.partition(topic.id, id);
      const position = positions.get(id);
      if (partition && position !== undefined && scope.fromSource(id) && !this.options.reader.covers(partition, position)) unknown.push(partition);
    }
    return unknown.length > 1 ? this.options.endOffsets.of(unknown) : new Map();
  }

  /** Waits at each partition the stream found empty, from the consumer's position there. */
  private async watchFound(consumerId: number, topic: Topic, arrivals: StreamArrivals): Promise<void> {
    if (!arrivals.hasUnwatched) return;
    const positions = await this.options.positions.positionsOf(consumerId);
    arrivals.watch((partitionId) => {
      const partition = this.options.view.partition(topic.id, partitionId);
      const position = positions.get(partitionId);
      return partition && position !== undefined ? { partition, offset: Math.max(position, Number(partition.logStartOffset)) } : undefined;
    });
  }

  /** The consumer and its topic, checked against the topic named in the request. */
  private async subscription(consumerId: number, topicName: string): Promise<{ consumer: Consumer; topic: Topic }> {
    if (!Number.isInteger(consumerId) || consumerId <= 0) throw new PartqError('INVALID_ARGUMENT', 'consumer_id is required');
    if (topicName === '') throw new PartqError('INVALID_ARGUMENT', 'topic is required');
    let consumer = this.options.view.consumer(consumerId);
    let conclusive = false;
    if (!consumer) ({ consumer, conclusive } = await this.refreshMetadataFor(consumerId));
    if (!consumer) {
      // Without the manager's answer a miss proves nothing: a replica that has no metadata yet, or a
      // consumer registered just before the manager stopped, whose registration the metadata stream
      // has not brought here. The client retries instead of giving up.
      if (!conclusive) {
        throw new PartqError(
          'UNAVAILABLE',
          this.options.view.ready
            ? `consumer ${consumerId} is not known here, and the manager, which would know, is not answering; retry`
            : `consumer ${consumerId} is not known here yet: this replica has no metadata from the manager; retry`,
          { consumerId },
        );
      }
      throw new PartqError('NOT_FOUND', `consumer ${consumerId} is not registered (consumers idle past the cluster's expiry are removed)`, { consumerId });
    }
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
  private async refreshMetadataFor(consumerId: number): Promise<{ consumer: Consumer | undefined; conclusive: boolean }> {
    const { view, manager } = this.options;
    if (manager) {
      try {
        const answer = await manager.getMetadata({}, { timeoutMs: MANAGER_TIMEOUT_MS });
        if (answer.metadata) view.upsert(answer.metadata);
        return { consumer: view.consumer(consumerId), conclusive: true };
      } catch (error) {
        this.options.logger.warn({ err: error, consumerId }, 'GetMetadata failed; waiting for the metadata stream');
      }
    }
    await view.waitForVersion(view.version + 1, this.options.metadataWaitMs ?? DEFAULT_METADATA_WAIT_MS);
    // With no manager to ask, the stream's view is all there is to know.
    return { consumer: view.consumer(consumerId), conclusive: manager === undefined && view.ready };
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

function checkStreamId(streamId: string): void {
  if (streamId === '') throw new PartqError('INVALID_ARGUMENT', 'stream_id is required');
  if (streamId.length > MAX_STREAM_ID_LENGTH) throw new PartqError('INVALID_ARGUMENT', `stream_id is longer than ${MAX_STREAM_ID_LENGTH} characters`);
}

/** Offsets by partition id; a partition listed twice or a negative offset is refused. */
function offsetsByPartition(offsets: readonly PartitionOffset[], field: string): Map<number, number> {
  const byPartition = new Map<number, number>();
  for (const { partitionId, offset } of offsets) {
    if (partitionId < 0 || offset < 0n) throw new PartqError('INVALID_ARGUMENT', `${field}: partition ${partitionId} offset ${offset} is negative`);
    if (byPartition.has(partitionId)) throw new PartqError('INVALID_ARGUMENT', `${field}: partition ${partitionId} is listed twice`);
    byPartition.set(partitionId, Number(offset));
  }
  return byPartition;
}

/** A superseded run stops: its client reconnected (through another gateway, say) or released the stream, or the replica stops. */
function assertCurrent(run: StreamRun): void {
  if (!run.current) throw supersededRunError('this stream was reopened, released or stopped; reconnect');
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(Math.max(0, ms), signal).catch(() => undefined);
}

