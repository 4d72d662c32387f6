import type { Client } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import {
  PartitionOffsetSchema,
  type Consumer,
  type ConsumedMessage,
  type ConsumeStreamResponse,
  type PartitionOffset,
  type PartitionSize,
  type ReplicaService,
  type Topic,
} from '@partq/proto';
import { PartqError } from '@partq/runtime';
import { assertPartitionInRange, type MetadataLookup } from '../cluster/metadata-lookup.js';
import type { ReplicaRouter } from './replica-router.js';

/** Largest number of messages one dequeue returns. */
export const MAX_MESSAGES_PER_DEQUEUE = 1000;
/** Longest stream id a client may choose. */
export const MAX_STREAM_ID_LENGTH = 128;

export interface ConsumeRequest {
  topic: string;
  consumerId: number;
  /** Read from this partition only (it must be one the consumer subscribed to). */
  partitionId?: number;
  /** 1 when absent or 0; capped at MAX_MESSAGES_PER_DEQUEUE. */
  maxMessages?: number;
  /** Makes a retry safe: the same id gets the same delivery again instead of the next one. */
  requestId?: string;
}

export interface ConsumeStreamRequest {
  topic: string;
  consumerId: number;
  partitionId?: number;
  /** Per delivery: 1 when absent or 0; capped at MAX_MESSAGES_PER_DEQUEUE. */
  maxMessages?: number;
  /** The client's id of the stream, the same across its reconnects. */
  streamId: string;
  /** Per partition, the next offset the client expects (see the replica's ConsumeStreamRequest). */
  resume: readonly PartitionOffset[];
}

/** What a stream's client handed out: in a Release (it stopped reading) or a Checkpoint (it reads on). */
export interface HandedOut {
  topic: string;
  consumerId: number;
  streamId: string;
  /** Per partition, the first offset the client did not hand out. */
  next: readonly PartitionOffset[];
}

export interface ConsumerSize {
  size: bigint;
  partitions: PartitionSize[];
}

export interface ConsumerReadsOptions {
  lookup: MetadataLookup;
  replicas: ReplicaRouter;
  /** Called with what each consume returned (metrics, activity reports). */
  onConsumed?: (topic: Topic, consumerId: number, count: number) => void;
}

/**
 * The read path shared by REST and Connect: checks that the consumer exists and may read what it
 * asks for, then lets its replica pick the messages and commit the position.
 */
export class ConsumerReads {
  /** Stops the streams relayed now (see endStreams). */
  private readonly relays = new Set<AbortController>();
  private stopping = false;

  constructor(private readonly options: ConsumerReadsOptions) {}

  /** Ends every relayed stream with UNAVAILABLE (their clients reconnect elsewhere) and refuses new ones: shutdown. */
  endStreams(): void {
    this.stopping = true;
    for (const relay of this.relays) relay.abort();
  }

  /** The next messages for the consumer; an empty list when nothing is pending. */
  async consume(request: ConsumeRequest): Promise<ConsumedMessage[]> {
    const { topic } = await this.authorize(request.topic, request.consumerId, request.partitionId);
    const maxMessages = Math.min(Math.max(request.maxMessages ?? 1, 1), MAX_MESSAGES_PER_DEQUEUE);
    let messages: ConsumedMessage[];
    try {
      const answer = await this.options.replicas.call(request.consumerId, (replica) =>
        replica.consume({
          consumerId: request.consumerId,
          topic: topic.name,
          partitionId: request.partitionId,
          maxMessages,
          requestId: request.requestId ?? '',
        }),
      );
      messages = answer.messages;
    } catch (error) {
      // A replica may say EMPTY instead of answering an empty list; both mean "nothing yet".
      if (error instanceof PartqError && error.code === 'EMPTY') messages = [];
      else throw error;
    }
    this.options.onConsumed?.(topic, request.consumerId, messages.length);
    return messages;
  }

  /**
   * The consumer's deliveries as its replica streams them (an empty one is a heartbeat), until
   * `signal` aborts. A broken path to the replica ends it with UNAVAILABLE. Each delivery is the
   * replica's answer as received, still marked with its wire bytes, so it can be relayed as they are.
   */
  async *stream(request: ConsumeStreamRequest, signal: AbortSignal): AsyncGenerator<ConsumeStreamResponse> {
    const { topic } = await this.authorize(request.topic, request.consumerId, request.partitionId);
    checkStreamId(request.streamId);
    const resume = checkOffsets(topic, request.resume, 'resume');
    const maxMessages = Math.min(Math.max(request.maxMessages ?? 1, 1), MAX_MESSAGES_PER_DEQUEUE);
    if (this.stopping) throw new PartqError('UNAVAILABLE', 'the gateway is shutting down; reconnect');
    const replicaRequest = {
      consumerId: request.consumerId,
      topic: topic.name,
      partitionId: request.partitionId,
      maxMessages,
      streamId: request.streamId,
      resume,
    };
    const relay = new AbortController();
    const follow = (): void => relay.abort();
    signal.addEventListener('abort', follow, { once: true });
    this.relays.add(relay);
    try {
      const responses = this.options.replicas.stream(request.consumerId, relay.signal, (replica) =>
        replica.consumeStream(replicaRequest, { signal: relay.signal }),
      );
      for await (const response of responses) {
        this.options.onConsumed?.(topic, request.consumerId, response.messages.length);
        yield response;
      }
    } catch (error) {
      if (this.stopping) throw new PartqError('UNAVAILABLE', 'the gateway is shutting down; reconnect');
      throw error;
    } finally {
      signal.removeEventListener('abort', follow);
      this.relays.delete(relay);
    }
  }

  /** Gives back what stream `streamId` delivered but its client did not hand out. */
  async release(request: HandedOut): Promise<void> {
    await this.tellReplica(request, (replica, checked) => replica.release(checked));
  }

  /** Tells the replica what stream `streamId`'s client handed out, while the stream goes on. */
  async checkpoint(request: HandedOut): Promise<void> {
    await this.tellReplica(request, (replica, checked) => replica.checkpoint(checked));
  }

  /** Checks what a stream's client handed out, then sends it to the consumer's replica. */
  private async tellReplica(
    request: HandedOut,
    send: (replica: Client<typeof ReplicaService>, checked: { consumerId: number; topic: string; streamId: string; next: PartitionOffset[] }) => Promise<unknown>,
  ): Promise<void> {
    const { topic } = await this.authorize(request.topic, request.consumerId, undefined);
    checkStreamId(request.streamId);
    const next = checkOffsets(topic, request.next, 'next');
    await this.options.replicas.call(request.consumerId, (replica) =>
      send(replica, { consumerId: request.consumerId, topic: topic.name, streamId: request.streamId, next }),
    );
  }

  /** How many messages are still pending for the consumer, in all and per partition. */
  async size(topicName: string, consumerId: number): Promise<ConsumerSize> {
    const { topic } = await this.authorize(topicName, consumerId, undefined);
    const answer = await this.options.replicas.call(consumerId, (replica) => replica.size({ consumerId, topic: topic.name }));
    return { size: answer.size, partitions: answer.partitions };
  }

  private async authorize(topicName: string, consumerId: number, partitionId: number | undefined): Promise<{ topic: Topic; consumer: Consumer }> {
    const topic = await this.options.lookup.topic(topicName);
    const consumer = await this.options.lookup.consumer(consumerId);
    if (consumer.topicId !== topic.id) {
      throw new PartqError('PERMISSION_DENIED', `consumer ${consumerId} is not subscribed to topic '${topic.name}'`, {
        consumerId,
        topic: topic.name,
      });
    }
    if (partitionId !== undefined) {
      assertPartitionInRange(topic, partitionId);
      if (consumer.partitionId !== undefined && consumer.partitionId !== partitionId) {
        throw new PartqError(
          'PERMISSION_DENIED',
          `consumer ${consumerId} is subscribed to partition ${consumer.partitionId} of '${topic.name}', not partition ${partitionId}`,
          { consumerId, partitionId },
        );
      }
    }
    return { topic, consumer };
  }
}

function checkStreamId(streamId: string): void {
  if (streamId === '') throw new PartqError('INVALID_ARGUMENT', 'stream_id is required');
  if (streamId.length > MAX_STREAM_ID_LENGTH) throw new PartqError('INVALID_ARGUMENT', `stream_id is longer than ${MAX_STREAM_ID_LENGTH} characters`);
}

/** Partition offsets of a request: partitions of the topic, each once, offsets not negative. */
function checkOffsets(topic: Topic, offsets: readonly PartitionOffset[], field: string): PartitionOffset[] {
  const seen = new Set<number>();
  return offsets.map(({ partitionId, offset }) => {
    assertPartitionInRange(topic, partitionId);
    if (offset < 0n) throw new PartqError('INVALID_ARGUMENT', `${field}: the offset of partition ${partitionId} is negative`, { partitionId });
    if (seen.has(partitionId)) throw new PartqError('INVALID_ARGUMENT', `${field}: partition ${partitionId} is listed twice`, { partitionId });
    seen.add(partitionId);
    return create(PartitionOffsetSchema, { topicId: topic.id, partitionId, offset });
  });
}
