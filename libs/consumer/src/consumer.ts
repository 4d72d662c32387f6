import { EventEmitter } from 'node:events';
import { backoffDelay, callWithRetry, ConsumerService, Gateways, optionNames, type RetryPolicy } from '@partq/client-core';
import type { CallOptions, Client } from '@connectrpc/connect';
import { raceAbort, sleep, throwIfAborted } from './abort.js';
import { toConsumedMessage, type ConsumedMessage } from './consumed-message.js';
import { ConnectionStatus, type DisconnectEvent, type ReconnectEvent } from './connection-status.js';
import { DequeueRequests } from './dequeue-requests.js';
import { ConsumerError } from './errors/consumer-error.js';
import { consumerErrors, toConsumerError } from './errors/rpc-error-mapping.js';
import { assertKnownOptions } from './known-options.js';
import { MessageBuffer } from './message-buffer.js';
import { MessageStream } from './message-stream.js';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './options.js';
import { Registrations, type Registration } from './registrations.js';
import { assertTopicName } from './topic-name.js';
import { statusEvents, type StatusEvent } from './status-events.js';

export interface SignalOptions {
  signal?: AbortSignal;
}

export interface RegisterOptions extends SignalOptions {
  /** Read this partition only; unset: every partition of the topic. */
  partition?: number;
  /** Where a new consumer starts: after the last message now ('latest', default) or at the oldest retained one. */
  from?: 'latest' | 'earliest';
}

export interface PollOptions extends SignalOptions {
  /** Most messages to return. Default: the consumer's maxMessages. */
  maxMessages?: number;
}

export interface MessagesOptions extends SignalOptions {
  /** Most messages the cluster sends at a time. Default: the consumer's maxMessages. */
  maxMessages?: number;
}

const SIGNAL_OPTIONS = optionNames<SignalOptions>({ signal: true });
const REGISTER_OPTIONS = optionNames<RegisterOptions>({ partition: true, from: true, signal: true });
const POLL_OPTIONS = optionNames<PollOptions>({ maxMessages: true, signal: true });
const MESSAGES_OPTIONS = optionNames<MessagesOptions>({ maxMessages: true, signal: true });

export interface TopicSize {
  /** Messages still pending for this consumer. */
  size: number;
  partitions: { partition: number; size: number }[];
}

type ServiceClient = Client<typeof ConsumerService>;

export interface Consumer {
  /** A call could not reach a gateway; retries go on. Emitted once per outage. */
  on(event: 'disconnect', listener: (event: DisconnectEvent) => void): this;
  /** A call succeeded again after a 'disconnect'. */
  on(event: 'reconnect', listener: (event: ReconnectEvent) => void): this;
  /** A transient failure messages() is retrying. Emitted only while someone listens. */
  on(event: 'error', listener: (error: ConsumerError) => void): this;
  once(event: 'disconnect', listener: (event: DisconnectEvent) => void): this;
  once(event: 'reconnect', listener: (event: ReconnectEvent) => void): this;
  once(event: 'error', listener: (error: ConsumerError) => void): this;
  off(event: 'disconnect', listener: (event: DisconnectEvent) => void): this;
  off(event: 'reconnect', listener: (event: ReconnectEvent) => void): this;
  off(event: 'error', listener: (error: ConsumerError) => void): this;
}

/**
 * Reads messages of partq topics through the gateway. Each topic is read with a consumer id that the
 * gateway hands out on registration; the cluster keeps the position of that id, so every message
 * is delivered once per consumer id, in offset order per partition.
 *
 * The cluster moves the position before it answers a fetch. Every fetch carries a request id and a
 * retry (or the next fetch of the topic, after a failed one) sends the same id again, so an answer
 * lost in transit is answered again instead of skipped. messages() reads a stream the cluster pushes
 * messages on; what the stream delivered but did not hand out is given back (see MessageStream).
 * Messages dequeue() or poll() fetched but nobody took when the consumer closes are not delivered
 * again to this consumer id.
 */
export class Consumer extends EventEmitter implements AsyncDisposable {
  private readonly options: ResolvedConsumerOptions;
  private readonly gateways: Gateways<typeof ConsumerService, ConsumerError>;
  private readonly registrations: Registrations;
  private readonly buffer = new MessageBuffer();
  private readonly dequeues = new DequeueRequests();
  private readonly status: ConnectionStatus;
  /** Fires on close(): stops every call, wait and iteration in progress. */
  private readonly closeController = new AbortController();
  private readonly inProgress = new Set<Promise<unknown>>();
  /** The streams of messages() iterations in progress: close() ends them and gives back what they did not hand out. */
  private readonly streams = new Set<MessageStream>();
  private closing: Promise<void> | undefined;

  constructor(options: ConsumerOptions) {
    super();
    this.options = resolveConsumerOptions(options);
    this.gateways = new Gateways(ConsumerService, this.options.urls, consumerErrors, this.options.httpVersion);
    this.status = new ConnectionStatus(
      (event) => this.emit('disconnect', event),
      (event) => this.emit('reconnect', event),
    );
    this.registrations = new Registrations(async (topic, request, signal) => {
      const answer = await this.call(
        (client, callOptions) =>
          client.register(
            { topic, fromEarliest: request.fromEarliest, ...(request.partition === undefined ? {} : { partitionId: request.partition }) },
            callOptions,
          ),
        signal,
      );
      return answer.consumerId;
    });
  }

  /**
   * Registers a consumer for `topic` and returns its id; later reads of the topic use it. Reading a
   * topic without registering registers it for every partition, from the latest offset.
   */
  async register(topic: string, options: RegisterOptions = {}): Promise<number> {
    this.assertOpen();
    assertTopicName(topic);
    assertKnownOptions(options, REGISTER_OPTIONS, 'register() options');
    const { partition, from = 'latest' } = options;
    if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
      throw new ConsumerError('INVALID_ARGUMENT', `partition must be a non-negative integer, got ${String(partition)}`);
    }
    if (from !== 'latest' && from !== 'earliest') {
      throw new ConsumerError('INVALID_ARGUMENT', `from must be 'latest' or 'earliest', got ${String(from)}`);
    }
    const request = { fromEarliest: from === 'earliest', ...(partition === undefined ? {} : { partition }) };
    const registration = await this.registrations.register(topic, request, options.signal);
    return registration.consumerId;
  }

  async listTopics(options: SignalOptions = {}): Promise<string[]> {
    this.assertOpen();
    assertKnownOptions(options, SIGNAL_OPTIONS, 'listTopics() options');
    const answer = await this.call((client, callOptions) => client.listTopics({}, callOptions), options.signal);
    return answer.topics;
  }

  /** The next message for this consumer, or null when nothing is pending. */
  async dequeue(topic: string, options: SignalOptions = {}): Promise<ConsumedMessage | null> {
    this.assertOpen();
    assertTopicName(topic);
    assertKnownOptions(options, SIGNAL_OPTIONS, 'dequeue() options');
    throwIfAborted(options.signal);
    await this.refill(topic, 1, options.signal, this.options.retry);
    return this.buffer.take(topic) ?? null;
  }

  /**
   * Up to `maxMessages` pending messages in one round trip (none when some are already buffered),
   * in offset order per partition; an empty array when nothing is pending.
   */
  async poll(topic: string, options: PollOptions = {}): Promise<ConsumedMessage[]> {
    this.assertOpen();
    assertTopicName(topic);
    assertKnownOptions(options, POLL_OPTIONS, 'poll() options');
    throwIfAborted(options.signal);
    const { maxMessages = this.options.maxMessages } = options;
    if (!Number.isInteger(maxMessages) || maxMessages < 1) {
      throw new ConsumerError('INVALID_ARGUMENT', `maxMessages must be a positive integer, got ${String(maxMessages)}`);
    }
    await this.refill(topic, maxMessages, options.signal, this.options.retry);
    return this.buffer.takeUpTo(topic, maxMessages);
  }

  /** How many messages are still pending for this consumer, in all and per partition. */
  async size(topic: string, options: SignalOptions = {}): Promise<TopicSize> {
    this.assertOpen();
    assertTopicName(topic);
    assertKnownOptions(options, SIGNAL_OPTIONS, 'size() options');
    const registration = await this.registration(topic, options.signal);
    const answer = await this.call(
      (client, callOptions) => client.size({ topic, consumerId: registration.consumerId }, callOptions),
      options.signal,
    );
    // Messages already fetched but not handed out yet are pending too, from the caller's view.
    const buffered = this.buffer.countByPartition(topic);
    const partitions = answer.partitions.map((p) => ({ partition: p.partitionId, size: Number(p.size) + (buffered.get(p.partitionId) ?? 0) }));
    for (const [partition, size] of buffered) if (!partitions.some((p) => p.partition === partition)) partitions.push({ partition, size });
    const extra = [...buffered.values()].reduce((a, b) => a + b, 0);
    return { size: Number(answer.size) + extra, partitions };
  }

  /**
   * The 'disconnect', 'reconnect' and 'error' events as a stream of their own: listens from this
   * call on, and ends quietly on close(), when `signal` fires, or when the loop is left.
   */
  statusEvents(options: SignalOptions = {}): AsyncIterableIterator<StatusEvent> {
    assertKnownOptions(options, SIGNAL_OPTIONS, 'statusEvents() options');
    const stop = options.signal ? AbortSignal.any([options.signal, this.closeController.signal]) : this.closeController.signal;
    return statusEvents(this, stop);
  }

  /**
   * Yields the topic's messages as they arrive, pushed by the cluster on a stream (no polling), in
   * offset order per partition; first whatever dequeue() or poll() fetched and nobody took yet.
   * Transient failures reconnect for as long as it takes, with 'disconnect' / 'error' / 'reconnect'
   * events, and lose or repeat nothing; a permanent one (unknown topic, no permission) ends the
   * iteration by throwing. Ends quietly on close(); throws ABORTED when `signal` fires. When the
   * iteration ends early (break, return, abort, close), the messages the cluster sent but it did not
   * yield are given back to the consumer id, for the next read.
   */
  async *messages(topic: string, options: MessagesOptions = {}): AsyncGenerator<ConsumedMessage, void, undefined> {
    const { signal, maxMessages = this.options.maxMessages } = options;
    this.assertOpen();
    assertTopicName(topic);
    assertKnownOptions(options, MESSAGES_OPTIONS, 'messages() options');
    if (!Number.isInteger(maxMessages) || maxMessages < 1) {
      throw new ConsumerError('INVALID_ARGUMENT', `maxMessages must be a positive integer, got ${String(maxMessages)}`);
    }
    throwIfAborted(signal);
    const stop = signal ? AbortSignal.any([signal, this.closeController.signal]) : this.closeController.signal;
    const retried = (error: ConsumerError): void => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    };

    try {
      yield* this.leftovers(topic, maxMessages, stop, retried);
    } catch (error) {
      if (this.closing) return;
      throwIfAborted(signal);
      throw error;
    }

    const stream = new MessageStream({
      topic,
      gateways: this.gateways,
      registration: (registrationSignal) => this.registration(topic, registrationSignal),
      maxMessages,
      retry: this.options.retry,
      status: this.status,
      onRetry: retried,
      signal: stop,
    });
    this.streams.add(stream);
    try {
      for (;;) {
        let message: ConsumedMessage;
        try {
          message = await stream.take();
        } catch (error) {
          if (this.closing) return;
          throwIfAborted(signal);
          throw error;
        }
        yield message;
      }
    } finally {
      this.streams.delete(stream);
      await stream.finish();
    }
  }

  /**
   * Stops every iteration and call in progress (calls reject with CLOSED, iterations end), gives
   * back what messages() iterations received but did not yield, waits for all that, then closes the
   * connections. Messages dequeue() or poll() fetched but nobody took are dropped.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closeController.abort(new ConsumerError('CLOSED', 'the consumer is closed'));
      const releases = [...this.streams].map((stream) => stream.finish());
      await Promise.allSettled([...this.inProgress, ...releases]);
      this.gateways.close();
      this.buffer.clear();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private assertOpen(): void {
    if (this.closing) throw new ConsumerError('CLOSED', 'the consumer is closed');
  }

  private registration(topic: string, signal: AbortSignal | undefined): Promise<Registration> {
    return raceAbort(this.registrations.forRead(topic), signal);
  }

  /**
   * What messages() yields before its stream: messages dequeue() or poll() fetched that nobody took,
   * and those of a dequeue whose answer was lost (fetched again with its request id), in the order
   * they were delivered.
   */
  private async *leftovers(
    topic: string,
    maxMessages: number,
    stop: AbortSignal,
    retried: (error: ConsumerError) => void,
  ): AsyncGenerator<ConsumedMessage, void, undefined> {
    // One attempt per fetch: this loop does the retrying, with its own events.
    const onceOnly: RetryPolicy = { ...this.options.retry, deadlineMs: 0 };
    let failures = 0;
    for (;;) {
      const buffered = this.buffer.take(topic);
      if (buffered) {
        yield buffered;
        continue;
      }
      if (!this.dequeues.hasUnanswered(topic)) return;
      try {
        await this.refill(topic, maxMessages, stop, onceOnly);
        failures = 0;
      } catch (error) {
        const failure = toConsumerError(error, stop);
        if (stop.aborted || !failure.retriable) throw failure;
        retried(failure);
        await sleep(backoffDelay(++failures, this.options.retry), stop);
      }
    }
  }

  /**
   * Unless messages of `topic` are buffered already, one Dequeue for up to `maxMessages` (retried per
   * `policy` with the same request id) whose messages go into the buffer; resolves to how many came.
   * An EMPTY answer counts as none.
   */
  private async refill(topic: string, maxMessages: number, signal: AbortSignal | undefined, policy: RetryPolicy): Promise<number> {
    if (this.buffer.has(topic)) return 0;
    const registration = await this.registration(topic, signal);
    const request = {
      topic,
      consumerId: registration.consumerId,
      maxMessages,
      ...(registration.partition === undefined ? {} : { partitionId: registration.partition }),
    };
    return this.dequeues.run(
      topic,
      registration.consumerId,
      async (requestId) => {
        let messages: ConsumedMessage[];
        try {
          const answer = await this.call((client, callOptions) => client.dequeue({ ...request, requestId }, callOptions), signal, policy);
          messages = answer.messages.map((m) => toConsumedMessage(topic, m));
        } catch (error) {
          if (error instanceof ConsumerError && error.serverCode === 'EMPTY') return 0;
          throw error;
        }
        // Still in the topic's line: messages enter the buffer in the order they were delivered.
        this.buffer.push(topic, messages);
        return messages.length;
      },
      signal,
    );
  }

  /**
   * An RPC with retries, stopped by the caller's signal (ABORTED) or by close() (CLOSED), and
   * tracked so close() can wait for it.
   */
  private async call<T>(
    call: (client: ServiceClient, options: CallOptions) => Promise<T>,
    signal: AbortSignal | undefined,
    policy: RetryPolicy = this.options.retry,
  ): Promise<T> {
    this.assertOpen();
    const combined = signal ? AbortSignal.any([signal, this.closeController.signal]) : this.closeController.signal;
    const pending = callWithRetry(this.gateways, call, { policy, errors: consumerErrors, signal: combined, observer: this.status });
    this.inProgress.add(pending);
    try {
      return await pending;
    } catch (error) {
      if (!signal?.aborted && this.closing) throw new ConsumerError('CLOSED', 'the consumer is closed', { cause: error });
      throw error;
    } finally {
      this.inProgress.delete(pending);
    }
  }
}
