import { randomBytes } from 'node:crypto';
import {
  backoffDelay,
  callWithRetry,
  type AttemptObserver,
  type ConsumerService,
  type Gateway,
  type Gateways,
  type RetryPolicy,
} from '@partq/client-core';
import { sleep, throwIfAborted } from './abort.js';
import { toConsumedMessage, type ConsumedMessage } from './consumed-message.js';
import { ConsumerError } from './errors/consumer-error.js';
import { consumerErrors, toConsumerError } from './errors/rpc-error-mapping.js';
import type { Registration } from './registrations.js';

type ConsumeResponses = ReturnType<Gateway<typeof ConsumerService>['client']['consume']>;
type ConsumeResponse = ConsumeResponses extends AsyncIterable<infer R> ? R : never;

export interface MessageStreamOptions {
  topic: string;
  gateways: Gateways<typeof ConsumerService, ConsumerError>;
  /** The consumer id to read with (registering the topic on first use). */
  registration: (signal: AbortSignal) => Promise<Registration>;
  /** Messages per delivery. */
  maxMessages: number;
  /** Backoff between reconnects (its deadline does not apply: the stream never gives up on transient failures). */
  retry: RetryPolicy;
  /** Hears whether each (re)connect reached a gateway: the 'disconnect' / 'reconnect' events. */
  status: AttemptObserver<ConsumerError>;
  /** Hears every transient failure the stream recovers from. */
  onRetry: (error: ConsumerError) => void;
  /** Stops the stream: the caller's signal and the consumer's close. */
  signal: AbortSignal;
  /** No response, not even a heartbeat, for this long: the path is dead, reconnect. Default 30 s (3 heartbeats). */
  idleTimeoutMs?: number;
  /** Budget of the Release at the end. Default 2 s. */
  releaseTimeoutMs?: number;
  /**
   * Tell the cluster what was handed out (a Checkpoint call beside the open stream) this often, so
   * retention may delete it: until then it keeps what the stream could still give back. Default 5 s.
   */
  checkpointMs?: number;
}

interface OpenCall {
  gateway: Gateway<typeof ConsumerService>;
  responses: AsyncIterator<ConsumeResponse>;
  controller: AbortController;
  /** Forwards the stream's stop signal to this call. */
  follow: () => void;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_RELEASE_TIMEOUT_MS = 2_000;
const DEFAULT_CHECKPOINT_MS = 5_000;
/** Budget of one Checkpoint call; a failed one is simply made again at the next checkpoint. */
const CHECKPOINT_TIMEOUT_MS = 2_000;

/**
 * One messages() iteration over the gateway's Consume stream, under one stream id for its whole life.
 *
 * The cluster commits a consumer's position before it sends a delivery, so a delivery can be lost on
 * the way (a gateway or replica died mid-stream) or arrive and never be handed out (the iteration
 * ended first). Both are given back under the stream id: a reconnect sends `resume`, the next offset
 * it expects per partition it got messages from (the cluster rewinds what it delivered past them, and
 * on the partitions not listed everything), and the end of the iteration sends a Release with the
 * first offset not handed out. A rewind only touches positions this stream id moved last, so it
 * never gives back anyone else's delivery.
 *
 * Every checkpointMs a Checkpoint call beside the stream says what was handed out, so the cluster
 * stops keeping it for a give-back; the stream goes on meanwhile. A gateway that refuses Checkpoint
 * for good (an older one) gets the same news the way it understands: the stream re-opens, between
 * messages, with `resume`.
 *
 * Transient failures (UNAVAILABLE, TIMEOUT) reconnect with backoff, moving to the next gateway, for
 * as long as it takes; anything else ends the stream with that error.
 */
export class MessageStream {
  readonly streamId = randomBytes(16).toString('hex');
  /** Per partition, the offset after the last message handed out. */
  private readonly next = new Map<number, number>();
  /** Received, not handed out yet, in delivery order. */
  private readonly pending: ConsumedMessage[] = [];
  private call: OpenCall | undefined;
  /** The consumer id the stream was last opened with (undefined: never opened, nothing to release). */
  private consumerId: number | undefined;
  private failures = 0;
  private finishing: Promise<void> | undefined;
  /** When the cluster last heard what was handed out (performance.now()): a checkpoint or an open's `resume`. */
  private checkpointedAt = 0;
  /** Something was handed out since the last checkpoint. */
  private handedOutSince = false;
  /** The Checkpoint call in flight, if any. */
  private checkpointing: { done: Promise<void>; controller: AbortController } | undefined;
  /** The gateway refused a Checkpoint for good: checkpoints re-open the stream instead. */
  private reopenToCheckpoint = false;

  constructor(private readonly options: MessageStreamOptions) {}

  /** The next message, once one arrived. Rejects when the stream stops or fails for good. */
  async take(): Promise<ConsumedMessage> {
    while (this.pending.length === 0) await this.receive();
    const message = this.pending.shift()!;
    this.next.set(message.partition, message.offset + 1);
    this.handedOutSince = true;
    return message;
  }

  /**
   * Ends the stream and gives back what it received but did not hand out, and what it may have been
   * sent without receiving it (best effort, within releaseTimeoutMs). Idempotent.
   */
  finish(): Promise<void> {
    this.finishing ??= this.release();
    return this.finishing;
  }

  /** Waits for the next response with messages, (re)connecting as needed. */
  private async receive(): Promise<void> {
    const { signal } = this.options;
    for (;;) {
      throwIfAborted(signal);
      let gateway: Gateway<typeof ConsumerService> | undefined;
      if (this.call && performance.now() - this.checkpointedAt >= (this.options.checkpointMs ?? DEFAULT_CHECKPOINT_MS)) this.checkpoint(this.call);
      try {
        const call = this.call ?? (await this.open());
        gateway = call.gateway;
        const result = await this.nextResponse(call);
        if (result.done) throw new ConsumerError('UNAVAILABLE', 'the gateway ended the stream');
        this.options.status.succeeded(gateway.url);
        this.failures = 0;
        // An empty response is a heartbeat: the path is alive.
        for (const wire of result.value.messages) this.pending.push(toConsumedMessage(this.options.topic, wire));
        if (this.pending.length > 0) return;
      } catch (error) {
        this.drop();
        const failure = toConsumerError(error, signal);
        if (signal.aborted || !failure.retriable) throw failure;
        if (gateway) {
          this.options.status.failed(gateway.url, failure);
          this.options.gateways.failover(gateway);
        }
        this.options.onRetry(failure);
        await sleep(backoffDelay(++this.failures, this.options.retry), signal);
      }
    }
  }

  private async open(): Promise<OpenCall> {
    const { topic, signal, maxMessages } = this.options;
    const registration = await this.options.registration(signal);
    throwIfAborted(signal);
    this.consumerId = registration.consumerId;
    const gateway = this.options.gateways.current();
    const controller = new AbortController();
    const follow = (): void => controller.abort();
    signal.addEventListener('abort', follow, { once: true });
    const request = {
      topic,
      consumerId: registration.consumerId,
      maxMessages,
      streamId: this.streamId,
      resume: this.offsets(this.next),
      ...(registration.partition === undefined ? {} : { partitionId: registration.partition }),
    };
    const responses = gateway.client.consume(request, { signal: controller.signal })[Symbol.asyncIterator]();
    this.call = { gateway, responses, controller, follow };
    this.checkpointedAt = performance.now();
    this.handedOutSince = false;
    return this.call;
  }

  /**
   * Tells the cluster what was handed out, without waiting for the answer: a Checkpoint on the
   * stream's gateway, or, where the gateway refused one for good, a re-open (receive() runs with
   * nothing pending, so the next open's `resume` is exact).
   */
  private checkpoint(call: OpenCall): void {
    this.checkpointedAt = performance.now();
    const consumerId = this.consumerId;
    if (this.checkpointing || !this.handedOutSince || consumerId === undefined) return;
    if (this.reopenToCheckpoint) {
      this.drop();
      return;
    }
    this.handedOutSince = false;
    const request = { topic: this.options.topic, consumerId, streamId: this.streamId, next: this.offsets(this.next) };
    const controller = new AbortController();
    const done = call.gateway.client
      .checkpoint(request, { timeoutMs: CHECKPOINT_TIMEOUT_MS, signal: controller.signal })
      .then(
        () => undefined,
        (error: unknown) => {
          if (controller.signal.aborted) return;
          // Said again at the next checkpoint, with whatever was handed out since; a refusal for good
          // (a gateway without Checkpoint) makes that and the later ones re-opens.
          this.handedOutSince = true;
          if (!toConsumerError(error).retriable) this.reopenToCheckpoint = true;
        },
      )
      .finally(() => {
        this.checkpointing = undefined;
      });
    this.checkpointing = { done, controller };
  }

  /** The call's next response, or TIMEOUT when not even a heartbeat came for idleTimeoutMs. */
  private async nextResponse(call: OpenCall): Promise<IteratorResult<ConsumeResponse>> {
    const idleTimeoutMs = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConsumerError('TIMEOUT', `no word from the gateway for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    });
    try {
      return await Promise.race([call.responses.next(), silence]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Cancels the open call, if any. */
  private drop(): void {
    const call = this.call;
    if (!call) return;
    this.call = undefined;
    this.options.signal.removeEventListener('abort', call.follow);
    call.controller.abort();
  }

  private async release(): Promise<void> {
    this.drop();
    // The Release says all a checkpoint would: one in flight is cancelled, so nothing outlives the stream.
    this.checkpointing?.controller.abort();
    await this.checkpointing?.done;
    const consumerId = this.consumerId;
    if (consumerId === undefined) return;
    // The first offset not handed out: for partitions with messages still pending, the first of them.
    const next = new Map(this.next);
    const seen = new Set<number>();
    for (const message of this.pending) {
      if (seen.has(message.partition)) continue;
      seen.add(message.partition);
      next.set(message.partition, message.offset);
    }
    this.pending.length = 0;
    const timeoutMs = this.options.releaseTimeoutMs ?? DEFAULT_RELEASE_TIMEOUT_MS;
    const request = { topic: this.options.topic, consumerId, streamId: this.streamId, next: this.offsets(next) };
    try {
      await callWithRetry(this.options.gateways, (client, callOptions) => client.release(request, callOptions), {
        policy: { ...this.options.retry, deadlineMs: timeoutMs / 2, requestTimeoutMs: timeoutMs / 2 },
        errors: consumerErrors,
      });
    } catch {
      // Best effort: what it would have given back stays delivered to this consumer id.
    }
  }

  private offsets(byPartition: ReadonlyMap<number, number>): { partitionId: number; offset: bigint }[] {
    return [...byPartition].map(([partitionId, offset]) => ({ partitionId, offset: BigInt(offset) }));
  }
}
