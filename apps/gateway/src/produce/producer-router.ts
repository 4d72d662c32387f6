import type { Client } from '@connectrpc/connect';
import type { MetadataView } from '@partq/cluster';
import { choosePartition } from '@partq/partition';
import { Acks, encodeAppendRequest, type AppendTarget, type BrokerService, type Partition, type Producer, type Topic } from '@partq/proto';
import { fromConnectError, PartqError, withWireBytes, type ErrorCode } from '@partq/runtime';
import type { Logger } from 'pino';
import { assertPartitionInRange, type MetadataLookup } from '../cluster/metadata-lookup.js';
import type { MetadataRefresher } from '../cluster/metadata-refresher.js';
import type { PeerClients } from '../cluster/peer-clients.js';
import { waitForViewChange } from '../cluster/view-change.js';
import { AppendCoalescer, type AppendRecordInit, type CoalescedAnswer } from './append-coalescer.js';
import { expandAppendResponse } from './append-answer.js';
import type { OutgoingMessage, ProducedMessage, ProduceRequest } from './outgoing-message.js';
import { StickyPartitions } from './sticky-partitions.js';

/** Broker answers that mean "ask the right broker / the same one a little later". */
const REROUTE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['STALE_EPOCH', 'NOT_OWNER', 'UNAVAILABLE']);
const FIRST_BACKOFF_MS = 20;
const MAX_BACKOFF_MS = 1000;
/** Less time than this left: no new attempt, the produce fails with the last routing error. */
const MIN_ATTEMPT_MS = 10;
/**
 * Waits before each new attempt of an append refused with SEQUENCE_GAP (ms; 0: the next turn of the
 * event loop), then the refusal goes back to the client. Batches of one producer sent side by side
 * (a large one as a call of its own, the next on the producer's stream) can reach the gateway in the
 * other order; the earlier one is then usually a moment behind, and lands first if the later one
 * waits that long, without a round trip to the client and its backoff.
 */
const SEQUENCE_GAP_WAITS_MS = [0, 1, 2, 4, 8, 16];

export interface ProducerRouterOptions {
  view: MetadataView;
  lookup: MetadataLookup;
  refresher: MetadataRefresher;
  brokers: PeerClients<typeof BrokerService>;
  maxMessageBytes: number;
  produceTimeoutMs: number;
  logger: Pick<Logger, 'debug' | 'warn'>;
  /** Called once per acknowledged request (metrics, activity reports). */
  onProduced?: (topic: Topic, producerId: number, count: number) => void;
  /** Called once per Append a broker acknowledged, with its round trip in seconds (metrics). */
  onAppended?: (acks: Acks, seconds: number) => void;
  /** Called once per produce's records as they leave in an Append, with how long they waited behind the lane's previous Append, in seconds (metrics). */
  onLaneWaited?: (seconds: number) => void;
  /** Called when keyless messages leave a partition whose Append has been out too long (metrics). */
  onPartitionStalled?: (topic: Topic, partitionId: number) => void;
  /** Bytes of messages without partition, key or sequence that go to one partition before the next takes over. */
  stickyPartitionBytes: number;
}

interface PartitionBatch {
  partitionId: number;
  /** Positions of the batch's messages in the request. */
  indexes: number[];
}

/**
 * The write path: validates a produce against the metadata, places every message on a partition,
 * sends one Append per partition to the broker that owns it (with the ownership epoch as fencing
 * token; concurrent produces to one partition share an Append, see AppendCoalescer) and maps the
 * offsets back to request order. A refused or unreachable owner is retried
 * after the view changes (or after asking the manager) until the produce timeout; nothing is
 * answered as written unless the owning broker acknowledged it.
 */
export class ProducerRouter {
  /** Messages that nothing else places go to one partition per topic until an Append to it comes back. */
  private readonly sticky: StickyPartitions;
  /** Concurrent appends to one partition owner share an Append RPC. */
  private readonly coalescer: AppendCoalescer;

  constructor(private readonly options: ProducerRouterOptions) {
    const { onLaneWaited } = options;
    this.coalescer = new AppendCoalescer({ onWaited: onLaneWaited && ((waitedMs) => onLaneWaited(waitedMs / 1000)) });
    this.sticky = new StickyPartitions({
      stickyBytes: options.stickyPartitionBytes,
      onStall: (topicId, partitionId) => {
        const topic = options.view.topicById(topicId);
        if (topic) options.onPartitionStalled?.(topic, partitionId);
        options.logger.debug({ topic: topic?.name, partitionId }, 'keyless messages left a partition whose append is stalled');
      },
    });
  }

  async produce(request: ProduceRequest): Promise<ProducedMessage[]> {
    // Usually both are in the view: then nothing is awaited here (four nested lookups were, before).
    const { topic, producer } = this.authorizeKnown(request) ?? (await this.authorize(request));
    // Every message is checked and placed before anything is sent: bad input writes nothing.
    const partitions = request.messages.map((message, index) => this.place(topic, producer, message, index));
    const batches = groupByPartition(partitions);
    const acks = request.acks || topic.defaultAcks || Acks.BROKER;
    const deadline = Date.now() + this.options.produceTimeoutMs;

    const results = new Array<ProducedMessage>(request.messages.length);
    // Settle every partition before answering, so a client retrying a failure never races a write still in flight.
    const outcomes = await Promise.allSettled(
      batches.map(async (batch) => {
        const records = batch.indexes.map((i) => toRecord(request.messages[i]!, producer.id));
        const answer = await this.appendToOwner(topic, batch.partitionId, records, acks, deadline);
        batch.indexes.forEach((requestIndex, j) => {
          results[requestIndex] = { partitionId: batch.partitionId, offset: answer.offsets[j]!, duplicate: answer.duplicates[j] ?? false };
        });
      }),
    );
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    this.options.onProduced?.(topic, producer.id, results.length);
    return results;
  }

  /** authorize() when the view knows the topic and the producer; undefined when either must be asked for. */
  private authorizeKnown(request: ProduceRequest): { topic: Topic; producer: Producer } | undefined {
    if (request.messages.length === 0) throw new PartqError('INVALID_ARGUMENT', 'a produce needs at least one message');
    const topic = this.options.lookup.knownTopic(request.topic);
    const producer = topic && this.options.lookup.knownProducer(request.producerId);
    return topic && producer ? this.authorized(topic, producer) : undefined;
  }

  /** A topic or producer the view lacks: asks the manager (after authorizeKnown checked the request). */
  private async authorize(request: ProduceRequest): Promise<{ topic: Topic; producer: Producer }> {
    const topic = await this.options.lookup.topic(request.topic);
    const producer = await this.options.lookup.producer(request.producerId);
    return this.authorized(topic, producer);
  }

  /** The producer may write to the topic: it registered for it. */
  private authorized(topic: Topic, producer: Producer): { topic: Topic; producer: Producer } {
    if (producer.topicId !== topic.id) {
      const registered = this.options.view.topicById(producer.topicId)?.name ?? `#${producer.topicId}`;
      throw new PartqError('PERMISSION_DENIED', `producer ${producer.id} is registered for topic '${registered}', not '${topic.name}'`, {
        producerId: producer.id,
        topic: topic.name,
      });
    }
    return { topic, producer };
  }

  /** Validates one message and returns its partition. */
  private place(topic: Topic, producer: Producer, message: OutgoingMessage, index: number): number {
    const size = message.payload.byteLength + (message.key?.byteLength ?? 0);
    if (size > this.options.maxMessageBytes) {
      throw new PartqError('PAYLOAD_TOO_LARGE', `message ${index} is ${size} bytes; the limit is ${this.options.maxMessageBytes}`, {
        index,
        size,
        limit: this.options.maxMessageBytes,
      });
    }
    // Brokers keep sequences as numbers: one past 2^53 would be refused deep in the Append (INTERNAL).
    if (message.sequence !== undefined && !isSafeSequence(message.sequence)) {
      throw new PartqError('INVALID_ARGUMENT', `message ${index}: sequence must be from 0 to 2^53 - 1`, { index });
    }
    if (message.previousSequence !== undefined && (!isSafeSequence(message.previousSequence) || message.sequence === undefined)) {
      throw new PartqError('INVALID_ARGUMENT', `message ${index}: previous_sequence must be from 0 to 2^53 - 1, and needs a sequence`, { index });
    }
    if (message.partitionId !== undefined) assertPartitionInRange(topic, message.partitionId);
    if (producer.partitionId !== undefined) {
      if (message.partitionId !== undefined && message.partitionId !== producer.partitionId) {
        throw new PartqError(
          'PERMISSION_DENIED',
          `producer ${producer.id} is registered for partition ${producer.partitionId} of '${topic.name}', not partition ${message.partitionId}`,
          { producerId: producer.id, partitionId: message.partitionId },
        );
      }
      return producer.partitionId;
    }
    return choosePartition({
      partitionCount: topic.partitionCount,
      explicit: message.partitionId,
      key: message.key,
      // Only the residue matters: in numbers, since the sequence is a safe integer (a BigInt division allocated two BigInts per message).
      sequence: message.sequence === undefined ? undefined : Number(message.sequence) % topic.partitionCount,
      roundRobin: () => this.sticky.partitionFor(topic.id, topic.partitionCount),
    });
  }

  private async appendToOwner(
    topic: Topic,
    partitionId: number,
    records: AppendRecordInit[],
    acks: Acks,
    deadline: number,
  ): Promise<CoalescedAnswer> {
    const { view, brokers, refresher, logger } = this.options;
    let backoff = FIRST_BACKOFF_MS;
    let lastError: PartqError | undefined;
    let gapWaits = 0;
    let owner: string | undefined;
    for (;;) {
      // An attempt with almost no time left could only end in a client-side timeout: report the real cause.
      if (lastError && deadline - Date.now() < MIN_ATTEMPT_MS) throw this.timedOut(topic, partitionId, lastError);
      const partition = view.partition(topic.id, partitionId);
      const broker = partition && partition.brokerId !== 0 ? view.aliveBroker(partition.brokerId) : undefined;
      // A new owner or epoch starts the backoff over: the backoff grew against the owner being left
      // (fenced while it syncs), and the new one is usually ready within tens of milliseconds.
      const current = partition ? `${partition.brokerId}/${partition.epoch}` : undefined;
      if (current !== owner) {
        if (owner !== undefined) backoff = FIRST_BACKOFF_MS;
        owner = current;
      }
      if (!partition || !broker) {
        lastError = new PartqError('UNAVAILABLE', `partition ${partitionId} of '${topic.name}' has no live owner`);
      } else {
        try {
          const client = brokers.get(broker.address);
          const lane = `${broker.address}|${topic.id}|${partitionId}|${partition.epoch}|${acks}`;
          const answer = await this.coalescer.append(lane, records, deadline, (group, groupDeadline, groupBytes) => {
            this.sticky.sent(topic.id, partitionId, groupBytes);
            return this.append(client, partition, { topicId: topic.id, partitionId, epoch: partition.epoch, acks }, group, groupDeadline).finally(() =>
              this.sticky.settled(topic.id, partitionId, topic.partitionCount, this.coalescer.hasWaiting(lane)),
            );
          });
          if (answer.offsets.length !== records.length) {
            throw new PartqError('INTERNAL', `broker ${broker.id} answered ${answer.offsets.length} offsets for ${records.length} records`);
          }
          return answer;
        } catch (error) {
          lastError = fromConnectError(error);
          if (lastError.code === 'SEQUENCE_GAP' && gapWaits < SEQUENCE_GAP_WAITS_MS.length && deadline - Date.now() > MIN_ATTEMPT_MS) {
            await waitFor(SEQUENCE_GAP_WAITS_MS[gapWaits++]!);
            continue;
          }
          if (!REROUTE_CODES.has(lastError.code)) throw lastError;
          logger.debug({ err: lastError, topic: topic.name, partitionId, brokerId: broker.id, epoch: partition.epoch }, 'append refused; rerouting');
        }
        // The view may have moved on while the call was in flight: retry at once with the news.
        const now = view.partition(topic.id, partitionId);
        if (now && (now.epoch !== partition.epoch || now.brokerId !== partition.brokerId)) continue;
      }

      const remaining = deadline - Date.now();
      if (remaining < MIN_ATTEMPT_MS) throw this.timedOut(topic, partitionId, lastError);
      const changed = await waitForViewChange(view, Math.min(backoff, remaining));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      if (!changed) await refresher.tryRefresh();
    }
  }

  /**
   * One Append, abandoned as soon as the view gives the partition a new owner or epoch: the old
   * owner is fenced and cannot acknowledge it any more (what it holds beyond the committed high
   * watermark is truncated when it returns), so a stopped broker does not hold the write until
   * the deadline.
   */
  private async append(
    client: Client<typeof BrokerService>,
    partition: Partition,
    target: AppendTarget,
    records: readonly AppendRecordInit[],
    deadline: number,
  ): Promise<CoalescedAnswer> {
    const { view } = this.options;
    const moved = new AbortController();
    const onChange = (): void => {
      const now = view.partition(partition.topicId, partition.partitionId);
      if (now && (now.epoch !== partition.epoch || now.brokerId !== partition.brokerId)) moved.abort();
    };
    view.on('change', onChange);
    const timeoutMs = Math.max(1, deadline - Date.now());
    try {
      // Written by hand, each payload copied once; the lean transport sends these bytes as they are.
      const { bytes, request } = encodeAppendRequest(target, records);
      const startedAt = performance.now();
      const response = await client.append(withWireBytes(request, bytes), { timeoutMs, signal: moved.signal });
      this.options.onAppended?.(target.acks, (performance.now() - startedAt) / 1000);
      return expandAppendResponse(response, records.length);
    } catch (error) {
      if (moved.signal.aborted) throw new PartqError('NOT_OWNER', `partition ${partition.partitionId} moved while the append was in flight`);
      const failure = fromConnectError(error);
      if (failure.code === 'DEADLINE_EXCEEDED') throw appendTimedOut(partition, target.acks, this.options.produceTimeoutMs);
      throw failure;
    } finally {
      view.off('change', onChange);
    }
  }

  private timedOut(topic: Topic, partitionId: number, lastError: PartqError): PartqError {
    this.options.logger.warn({ err: lastError, topic: topic.name, partitionId }, 'produce timed out waiting for a partition owner');
    return new PartqError(
      'UNAVAILABLE',
      `partition ${partitionId} of '${topic.name}' did not accept the write within ${this.options.produceTimeoutMs} ms: ${lastError.message}`,
      { topic: topic.name, partitionId, cause: lastError.code },
    );
  }
}

/**
 * An Append the broker did not answer in time. With acks=all that is most often the commit it waits
 * for (the manager's sync to PostgreSQL), not the broker: the message says so, where the transport's
 * own did not. It names the produce timeout: the Append itself may have had only what was left of
 * it after waiting behind the lane's previous Append ("the call took longer than 41 ms").
 */
function appendTimedOut(partition: Partition, acks: Acks, produceTimeoutMs: number): PartqError {
  const waitingFor = acks === Acks.ALL ? 'to confirm that the central database committed the records (acks=all)' : 'to store the records';
  return new PartqError('DEADLINE_EXCEEDED', `broker ${partition.brokerId} did not answer within the produce timeout (${produceTimeoutMs} ms) ${waitingFor}`, {
    partitionId: partition.partitionId,
    brokerId: partition.brokerId,
  });
}

function waitFor(ms: number): Promise<void> {
  return new Promise((resolve) => (ms === 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

const MAX_SAFE_SEQUENCE = BigInt(Number.MAX_SAFE_INTEGER);

function isSafeSequence(sequence: bigint): boolean {
  return sequence >= 0n && sequence <= MAX_SAFE_SEQUENCE;
}

function toRecord(message: OutgoingMessage, producerId: number): AppendRecordInit {
  return { payload: message.payload, key: message.key, producerId, sequence: message.sequence, previousSequence: message.previousSequence };
}

function groupByPartition(partitions: readonly number[]): PartitionBatch[] {
  const byPartition = new Map<number, PartitionBatch>();
  partitions.forEach((partitionId, index) => {
    let batch = byPartition.get(partitionId);
    if (!batch) byPartition.set(partitionId, (batch = { partitionId, indexes: [] }));
    batch.indexes.push(index);
  });
  return [...byPartition.values()];
}
