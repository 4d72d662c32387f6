import { Code, ConnectError } from '@connectrpc/connect';
import { callWithRetry, Gateways, optionNames, ProducerService, serverErrorOf, wireBytesOf, withWireBytes, type Acks, type SendRequest, type SendResponse } from '@partq/client-core';
import { raceAbort, throwIfAborted } from './abort.js';
import { Accumulator } from './batching/accumulator.js';
import { AdmissionQueue } from './batching/admission-queue.js';
import type { Batch, BatchTarget } from './batching/batch.js';
import { BatchPartitions } from './batching/batch-partitions.js';
import { Dispatcher } from './batching/dispatcher.js';
import { PartitionChains } from './batching/partition-chains.js';
import { PendingSend } from './batching/pending-send.js';
import { SendEpochs } from './batching/send-epochs.js';
import type { SendResult } from './batching/send-result.js';
import { ProducerError } from './errors/producer-error.js';
import { producerErrors, toProducerError } from './errors/rpc-error-mapping.js';
import { assertPartition, toOutgoingMessage, type Message, type OutgoingMessage } from './message.js';
import { resolveProducerOptions, toAcks, type AcksMode, type ProducerOptions, type ResolvedProducerOptions } from './options.js';
import { Registrations, type Registration } from './registrations.js';
import { RequestBuffers } from './wire/request-buffers.js';
import { encodeSendRequest } from './wire/send-request.js';
import { assertTopicName } from './topic-name.js';
import { assertKnownOptions } from './known-options.js';

export interface SignalOptions {
  signal?: AbortSignal;
}

export interface CreateTopicOptions extends SignalOptions {
  /** Number of partitions; unset: the cluster's default. */
  partitions?: number;
  /** Delete records older than this many ms, consumed or not (Kafka's `retention.ms`); unset: no time limit. */
  retentionMs?: number;
  /** Keep at most this many bytes of records per partition, consumed or not (Kafka's `retention.bytes`); unset: no size limit. */
  retentionBytes?: number;
}

export interface RegisterOptions extends SignalOptions {
  /** Register for this partition only; sends then always go to it. */
  partition?: number;
}

export interface SendOptions extends SignalOptions {
  /** Partition for messages that do not name one. */
  partition?: number;
  /** Key for messages that do not carry one (same key, same partition). */
  key?: string | Uint8Array;
  /** Overrides the producer's acks for these messages. */
  acks?: AcksMode;
}

const SIGNAL_OPTIONS = optionNames<SignalOptions>({ signal: true });
const CREATE_TOPIC_OPTIONS = optionNames<CreateTopicOptions>({ partitions: true, retentionMs: true, retentionBytes: true, signal: true });
const REGISTER_OPTIONS = optionNames<RegisterOptions>({ partition: true, signal: true });
const SEND_OPTIONS = optionNames<SendOptions>({ partition: true, key: true, acks: true, signal: true });
/** send() without options: one shared object, not a new `{}` per call. */
const NO_SEND_OPTIONS: SendOptions = Object.freeze({});

/** A send() whose topic is registered, on its way into the batches. */
interface AdmittedSend {
  registration: Registration;
  acks: Acks;
  outgoing: OutgoingMessage[];
  pending: PendingSend;
  signal: AbortSignal | undefined;
}

/**
 * Sends messages to partq topics through the gateway. Sends are gathered into batches (one Send RPC
 * each), at most `maxInFlight` batches travel at once, and a batch that fails for a transient reason
 * is retried with the same sequence numbers until the retry deadline, so it lands exactly once.
 *
 * Order: an idempotent producer's messages (the default) land on each partition in the order they
 * were sent, also with several batches in flight and across retries: each batch names its
 * partitions' previous messages, and the broker refuses it until those are stored (see
 * PartitionChains). Without idempotence, only the messages of one send() call keep their order.
 */
export class Producer implements AsyncDisposable {
  private readonly options: ResolvedProducerOptions;
  private readonly gateways: Gateways<typeof ProducerService, ProducerError>;
  private readonly registrations: Registrations;
  private readonly accumulator: Accumulator;
  private readonly dispatcher: Dispatcher;
  private readonly batchPartitions: BatchPartitions;
  /** Keeps batches in flight landing on each partition in the order they were sent (idempotent producers). */
  private readonly chains = new PartitionChains();
  private readonly requestBuffers = new RequestBuffers();
  private readonly batchTargets = new WeakMap<Registration, Map<Acks, BatchTarget>>();
  /** Every send() not settled yet, for flush() and close(). */
  /** The sends not settled yet, counted for flush(). */
  private readonly sendEpochs = new SendEpochs();
  private readonly onSendSettled = (pending: PendingSend): void => this.sendEpochs.settled(pending.epoch);
  /** The last topic name send() checked: most sends name the same topic as the one before. */
  private checkedTopic: string | undefined;
  /** send() calls waiting for their topic's registration; later sends wait behind them. */
  private waitingSends = 0;
  /** send() calls waiting for the batches to admit their messages. */
  private readonly admissionQueue: AdmissionQueue<AdmittedSend>;
  private closing: Promise<void> | undefined;

  constructor(options: ProducerOptions) {
    this.options = resolveProducerOptions(options);
    // Over HTTP/2 every Send travels on one SendStream per gateway: a message on an open stream costs
    // both ends a fraction of a call (docs/performance.md).
    this.gateways = new Gateways(ProducerService, this.options.urls, producerErrors, this.options.httpVersion, [
      { unary: ProducerService.method.send, stream: ProducerService.method.sendStream },
    ]);
    this.registrations = new Registrations((topic, partition, signal) => this.registerRemote(topic, partition, signal));
    this.batchPartitions = new BatchPartitions(this.options.stickyPartitionBytes);
    this.dispatcher = new Dispatcher(this.options.maxInFlight, (batch, retrying) => this.sendBatch(batch, retrying));
    this.admissionQueue = new AdmissionQueue<AdmittedSend>(this.dispatcher, (send) =>
      this.appendAdmitted(send.registration, send.acks, send.outgoing, send.pending, send.signal),
    );
    this.accumulator = new Accumulator({
      lingerMs: this.options.lingerMs,
      maxBatchCount: this.options.maxBatchCount,
      maxBatchBytes: this.options.maxBatchBytes,
      onSealed: (batch) => this.dispatcher.enqueue(batch),
    });
  }

  /**
   * Creates a topic. Resolves too when a retried attempt finds the topic already there (the first
   * attempt created it but its answer was lost); a topic that existed before rejects ALREADY_EXISTS.
   */
  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<void> {
    this.assertOpen();
    assertTopicName(name);
    assertKnownOptions(options, CREATE_TOPIC_OPTIONS, 'createTopic() options');
    if (options.partitions !== undefined) {
      assertPartition(options.partitions, 'partitions');
      if (options.partitions < 1) throw new ProducerError('INVALID_ARGUMENT', 'partitions must be at least 1');
    }
    const retentionMs = retentionLimit(options.retentionMs, 'retentionMs');
    const retentionBytes = retentionLimit(options.retentionBytes, 'retentionBytes');
    const { signal } = options;
    await callWithRetry(
      this.gateways,
      async (client, callOptions, attempt) => {
        try {
          // The topic keeps the cluster's default acks: this producer's `acks` travels with each of its sends.
          await client.createTopic({ name, partitions: options.partitions ?? 0, retentionMs, retentionBytes }, callOptions);
        } catch (error) {
          if (attempt > 1 && toProducerError(error, signal).code === 'ALREADY_EXISTS') return;
          throw error;
        }
      },
      { policy: this.options.retry, errors: producerErrors, signal },
    );
  }

  async listTopics(options: SignalOptions = {}): Promise<string[]> {
    this.assertOpen();
    assertKnownOptions(options, SIGNAL_OPTIONS, 'listTopics() options');
    const answer = await callWithRetry(this.gateways, (client, callOptions) => client.listTopics({}, callOptions), {
      policy: this.options.retry,
      errors: producerErrors,
      signal: options.signal,
    });
    return answer.topics;
  }

  /**
   * Registers this producer for `topic` (created if absent) and returns the producer id; later sends
   * to the topic use it. send() registers by itself, for the whole topic, when this was not called.
   */
  async register(topic: string, options: RegisterOptions = {}): Promise<number> {
    this.assertOpen();
    assertTopicName(topic);
    assertKnownOptions(options, REGISTER_OPTIONS, 'register() options');
    if (options.partition !== undefined) assertPartition(options.partition);
    const registration = await this.registrations.register(topic, options.partition, options.signal);
    return registration.producerId;
  }

  /**
   * Sends one message (resolving to where it landed) or several (resolving to one result each, in
   * order). Resolves once the messages are acknowledged per `acks`. An abort takes messages that are
   * still waiting out of their batch; messages already on the wire may still land.
   */
  send(topic: string, message: Message, options?: SendOptions): Promise<SendResult>;
  send(topic: string, messages: Message[], options?: SendOptions): Promise<SendResult[]>;
  send(topic: string, message: Message | Message[], options: SendOptions = NO_SEND_OPTIONS): Promise<SendResult | SendResult[]> {
    // Not an async function: with thousands of sends in flight, each one's suspended frame and
    // extra promise were most of what the young generation had to copy (scavenges were a fifth of
    // the client's CPU in the pipelined benchmark). Errors still come back as rejections.
    let pending: PendingSend;
    try {
      this.assertOpen();
      assertKnownOptions(options, SEND_OPTIONS, 'send() options');
      const { signal } = options;
      throwIfAborted(signal);
      if (topic !== this.checkedTopic) {
        assertTopicName(topic);
        this.checkedTopic = topic;
      }
      const many = Array.isArray(message);
      const outgoing = many ? message.map((m, i) => toOutgoingMessage(m, options, i)) : [toOutgoingMessage(message, options, 0)];
      const acks = options.acks === undefined ? this.options.acks : toAcks(options.acks);
      if (outgoing.length === 0) return Promise.resolve([]);

      pending = new PendingSend(outgoing.length, this.onSendSettled, !many, this.sendEpochs.begin());
      // No turn of the event loop when the topic's registration has arrived and no earlier send()
      // still waits for its own (so call order is kept).
      const registration = this.waitingSends === 0 ? this.registrations.arrivedFor(topic) : undefined;
      if (registration) this.admit(registration, acks, outgoing, pending, signal);
      else void this.admitWhenRegistered(topic, acks, outgoing, pending, signal);
    } catch (error) {
      return Promise.reject(error);
    }
    return pending.promise;
  }

  /** Waits for the topic's registration (its first sends), then joins the others. */
  private async admitWhenRegistered(topic: string, acks: Acks, outgoing: OutgoingMessage[], pending: PendingSend, signal: AbortSignal | undefined): Promise<void> {
    // Counted before the first await, so a later send() cannot overtake this one.
    this.waitingSends++;
    let registration: Registration;
    try {
      registration = await raceAbort(this.registrations.forSend(topic), signal);
    } catch (error) {
      pending.fail(toProducerError(error, signal));
      return;
    } finally {
      this.waitingSends--;
    }
    this.admit(registration, acks, outgoing, pending, signal);
  }

  /**
   * Adds the send's messages to batches now if they admit messages and nobody waits; else queues it.
   * Only a queued send gets an object of its own: one fewer per send while the wire keeps up.
   */
  private admit(registration: Registration, acks: Acks, outgoing: OutgoingMessage[], pending: PendingSend, signal: AbortSignal | undefined): void {
    if (this.admissionQueue.isEmpty && this.dispatcher.admitsNow && !signal?.aborted) this.appendAdmitted(registration, acks, outgoing, pending, signal);
    else this.admissionQueue.push({ registration, acks, outgoing, pending, signal });
  }

  private appendAdmitted(registration: Registration, acks: Acks, outgoing: OutgoingMessage[], pending: PendingSend, signal: AbortSignal | undefined): void {
    this.appendAll(registration, acks, outgoing, pending);
    this.abortWith(pending, signal);
  }

  /** An abort takes the send's waiting messages out of their batch and fails it. */
  private abortWith(pending: PendingSend, signal: AbortSignal | undefined): void {
    if (!signal || pending.isSettled) return;
    const onAbort = () => {
      this.accumulator.withdraw(pending);
      this.dispatcher.withdraw(pending);
      pending.fail(new ProducerError('ABORTED', 'the send was aborted', { cause: signal.reason }));
    };
    // The signal may have fired between admission and this line.
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      void pending.done.then(() => signal.removeEventListener('abort', onAbort));
    }
  }

  /**
   * Sends every batched message now and resolves when all sends made before (and during) the call
   * have settled. Failures are reported by the sends themselves, not by flush().
   */
  async flush(options: SignalOptions = {}): Promise<void> {
    assertKnownOptions(options, SIGNAL_OPTIONS, 'flush() options');
    throwIfAborted(options.signal);
    const settled = this.sendEpochs.whenSettled();
    this.accumulator.beginFlush();
    try {
      await raceAbort(settled, options.signal);
    } finally {
      this.accumulator.endFlush();
    }
  }

  /** Refuses new calls, waits for every pending send to settle, then closes the connections. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.registrations.settled();
      await this.flush();
      this.gateways.close();
      this.requestBuffers.clear();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private appendAll(registration: Registration, acks: Acks, outgoing: OutgoingMessage[], pending: PendingSend): void {
    const target = this.targetOf(registration, acks);
    for (let index = 0; index < outgoing.length; index++) {
      const message = outgoing[index]!;
      // The message objects are this send()'s own (toOutgoingMessage made them): no copy needed.
      if (this.options.idempotent) message.sequence = registration.sequences.take();
      this.accumulator.append(target, { message, owner: pending, index });
    }
  }

  /** One target object per registration and acks mode, shared by all their sends. */
  private targetOf(registration: Registration, acks: Acks): BatchTarget {
    let byAcks = this.batchTargets.get(registration);
    if (!byAcks) {
      byAcks = new Map();
      this.batchTargets.set(registration, byAcks);
    }
    let target = byAcks.get(acks);
    if (!target) {
      target = { topic: registration.topic, producerId: registration.producerId, acks, registration };
      if (registration.partition === undefined) target.partitionCount = registration.partitionCount;
      byAcks.set(acks, target);
    }
    return target;
  }

  private assertOpen(): void {
    if (this.closing) throw new ProducerError('CLOSED', 'the producer is closed');
  }

  private async registerRemote(topic: string, partition: number | undefined, signal: AbortSignal | undefined) {
    const answer = await callWithRetry(
      this.gateways,
      (client, callOptions) => client.register({ topic, ...(partition === undefined ? {} : { partitionId: partition }) }, callOptions),
      { policy: this.options.retry, errors: producerErrors, signal },
    );
    return { producerId: answer.producerId, partitionCount: answer.partitionCount };
  }

  /**
   * One batch, one Send RPC (retried as it is); settles the batch's messages. Never rejects. A batch
   * whose producer id the cluster no longer knows (removed after PARTQ_PRODUCER_EXPIRY without a
   * produce) landed nowhere: it goes again once under a new registration.
   */
  private async sendBatch(batch: Batch, retrying: () => void): Promise<void> {
    const { idempotent } = this.options;
    let landed = false;
    try {
      if (batch.target.partitionCount !== undefined) this.batchPartitions.place(batch, batch.target.partitionCount);
      if (idempotent) this.chains.link(batch);
      let answer: SendResponse;
      try {
        answer = await this.sendRequest(batch, retrying);
      } catch (error) {
        if (!isUnknownProducer(error, batch.target.producerId)) throw error;
        const expired = batch.target.registration;
        const renewed = await this.registrations.renew(expired);
        batch.retarget(this.targetOf(renewed, batch.target.acks), idempotent);
        if (idempotent) this.chains.moved(batch, expired);
        answer = await this.sendRequest(batch, retrying);
      }
      // messages_data is answered in the packed fields: a partition and an offset per message.
      const { partitionIds, offsets } = answer;
      if (partitionIds.length !== batch.count || offsets.length !== batch.count) {
        throw new ConnectError(`the gateway answered ${offsets.length} offsets for ${batch.count} messages`, Code.Internal);
      }
      landed = true;
      batch.succeed(partitionIds.map((partition, i) => ({ partition, offset: Number(offsets[i]!) })));
    } catch (error) {
      batch.fail(toProducerError(error));
    } finally {
      if (idempotent) this.chains.settled(batch, landed);
    }
  }

  /**
   * The batch's Send, retried as it is: built once, written by hand (each payload copied once), so
   * every attempt sends the very same bytes. The one exception: a batch that names predecessors and
   * failed an attempt goes again without them once every batch sent before it has settled. A
   * predecessor still missing then will not come (see PartitionChains), and whatever the failure
   * said (a Send over several partitions answers with one of their errors), nothing sent earlier can
   * land after it any more.
   */
  private async sendRequest(batch: Batch, retrying: () => void): Promise<SendResponse> {
    let request = this.encodeBatch(batch);
    const answer = await callWithRetry(
      this.gateways,
      (client, callOptions, attempt) => {
        if (attempt > 1 && this.chains.isLinked(batch) && this.chains.isOldestUnsettled(batch)) {
          this.chains.unlink(batch);
          request = this.encodeBatch(batch);
        }
        return client.send(request, callOptions);
      },
      { policy: this.options.retry, errors: producerErrors, observer: { succeeded: () => undefined, failed: retrying } },
    );
    // Landed: the gateway read the whole body, so its buffer can carry the next batch.
    this.requestBuffers.release(wireBytesOf(request));
    return answer;
  }

  /** A batch as the Send request it travels in. */
  private encodeBatch(batch: Batch): SendRequest {
    const { target } = batch;
    const { bytes, request } = encodeSendRequest(
      { topic: target.topic, producerId: target.producerId, acks: target.acks },
      batch.entries.map((entry) => entry.message),
      (size) => this.requestBuffers.take(size),
    );
    return withWireBytes(request, bytes);
  }
}

/** The gateway's answer that `producerId` is not registered (any more). */
function isUnknownProducer(error: unknown, producerId: number): boolean {
  const server = serverErrorOf(error);
  return server?.code === 'NOT_FOUND' && server.details.producerId === producerId;
}

/** A topic limit as the protocol carries it; anything but a positive safe integer is refused before a call. */
function retentionLimit(value: unknown, what: 'retentionMs' | 'retentionBytes'): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ProducerError('INVALID_ARGUMENT', `${what} must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}, got ${String(value)}`);
  }
  return BigInt(value);
}
