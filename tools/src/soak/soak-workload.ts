import { Consumer, ConsumerError } from '@partq/consumer';
import { Producer, ProducerError } from '@partq/producer';
import { sleep } from '@partq/runtime';
import type { AckedMessage, DeliveredMessage } from '../oracle/delivery-oracle.js';

export interface SoakWorkloadOptions {
  /** The clients fail over among them. */
  gatewayUrls: string[];
  topic: string;
  partitions: number;
  /** Messages a second each producer sends, at most. */
  rate: number;
  say: (message: string) => void;
}

/** Sends not yet acknowledged per producer, at most. */
const IN_FLIGHT = 200;
interface SoakProducer {
  name: string;
  acks: 'all' | 'broker';
  /** Undefined: the producer's default (8). */
  maxInFlight: number | undefined;
  /** Messages cycle through this many keys; undefined: keyless. */
  keys: number | undefined;
}

/**
 * Every producer is judged on the order it sent in (the producer keeps it per partition, several
 * batches in flight included: see its PartitionChains). PA, PB and PK use the defaults (8 batches
 * in flight), PK with 16 keys (what a user who needs order per key sends, placed by the client's
 * own key hash); PO sends one batch at a time (`maxInFlight: 1`), the simplest way to keep order.
 */
const PRODUCERS: readonly SoakProducer[] = [
  { name: 'PA', acks: 'all', maxInFlight: undefined, keys: undefined },
  { name: 'PB', acks: 'broker', maxInFlight: undefined, keys: undefined },
  { name: 'PO', acks: 'broker', maxInFlight: 1, keys: undefined },
  { name: 'PK', acks: 'broker', maxInFlight: undefined, keys: 16 },
];
export const SOAK_ORDERED_PRODUCERS: readonly string[] = PRODUCERS.map((p) => p.name);
export const SOAK_CONSUMERS = ['C1', 'C2'] as const;
/** The name the end-of-run reader of the retained log records its messages under. */
const RETAINED_LOG_READER = 'LOG';

/**
 * What flows during a soak: a producer with acks=all and three with acks=broker, one of them keyed
 * (the npm producer's sticky partitions and key hashing, batches, retries with the same
 * sequences), and two consumers reading the whole topic with messages() (streams, resumes,
 * checkpoints). Every acknowledgement and every delivery is recorded for the oracle. Failures the
 * clients give up on are counted, not fatal: a send that fails was never acknowledged, so the
 * contract says nothing of it.
 */
export class SoakWorkload {
  readonly acked: AckedMessage[] = [];
  readonly delivered: DeliveredMessage[] = [];
  failedSends = 0;
  /** The failed sends by producer and code, and the server's code where it differs (`PB UNAVAILABLE/SEQUENCE_GAP`). */
  readonly sendFailures: Record<string, number> = {};
  private producing = true;
  private lastDeliveryAt = Date.now();
  private readonly stopConsuming = new AbortController();
  private producers: Promise<void>[] = [];
  private consumers: Promise<void>[] = [];
  private readonly clients: Consumer[] = [];

  constructor(private readonly options: SoakWorkloadOptions) {}

  async start(): Promise<void> {
    const { gatewayUrls: urls, topic, partitions } = this.options;
    const admin = new Producer({ urls });
    try {
      await admin.createTopic(topic, { partitions });
    } finally {
      await admin.close();
    }
    // Consumers first: they start at the end of the log, so they see every message sent after.
    for (const name of SOAK_CONSUMERS) {
      const client = new Consumer({ urls });
      await client.register(topic);
      this.clients.push(client);
      this.consumers.push(this.consume(name, client));
    }
    this.producers = PRODUCERS.map((producer) => this.produce(producer));
  }

  /** Time since the last delivery to any consumer. */
  get quietForMs(): number {
    return Date.now() - this.lastDeliveryAt;
  }

  /** Stops sending; resolves once every send is settled. */
  async stopProducing(): Promise<void> {
    this.producing = false;
    await Promise.all(this.producers);
  }

  /** Stops the consumers (what they received stays recorded). */
  async stopConsumers(): Promise<void> {
    this.stopConsuming.abort();
    await Promise.all(this.consumers);
    await Promise.all(this.clients.map((client) => client.close().catch(() => undefined)));
  }

  private async produce({ name, acks, maxInFlight, keys }: SoakProducer): Promise<void> {
    const producer = new Producer({ urls: this.options.gatewayUrls, maxInFlight });
    const pending = new Set<Promise<void>>();
    const started = Date.now();
    for (let sequence = 0; this.producing; sequence++) {
      const value = `${name}:${sequence}`;
      const message = keys === undefined ? value : { value, key: `key-${sequence % keys}` };
      const sent = producer.send(this.options.topic, message, { acks }).then(
        (result) => {
          this.acked.push({ producer: name, sequence, partition: result.partition, offset: Number(result.offset), acks, ackedAt: Date.now() });
        },
        (error: unknown) => {
          this.failedSends++;
          const code = error instanceof ProducerError ? `${error.code}${error.serverCode && error.serverCode !== error.code ? `/${error.serverCode}` : ''}` : 'other';
          const kind = `${name} ${code}`;
          this.sendFailures[kind] = (this.sendFailures[kind] ?? 0) + 1;
        },
      );
      const tracked = sent.finally(() => pending.delete(tracked));
      pending.add(tracked);
      if (pending.size >= IN_FLIGHT) await Promise.race(pending);
      // Paced: never ahead of `rate` a second.
      const ahead = (sequence + 1) / this.options.rate - (Date.now() - started) / 1000;
      if (ahead > 0.005) await sleep(ahead * 1000);
    }
    await Promise.all(pending);
    await producer.close();
  }

  /**
   * What the log still holds once the consumers stopped: a consumer registered at the earliest
   * retained offset reads until `quietMs` pass without a message. Retention keeps every record a
   * consumer has not read, so an acknowledged message that neither consumer received and this
   * reader does not find is gone from the log (lost), and one it finds was skipped.
   */
  async readRetainedLog(quietMs: number): Promise<DeliveredMessage[]> {
    const client = new Consumer({ urls: this.options.gatewayUrls });
    const retained: DeliveredMessage[] = [];
    const stop = new AbortController();
    let lastAt = Date.now();
    const watchdog = setInterval(() => Date.now() - lastAt >= quietMs && stop.abort(), 100);
    try {
      await client.register(this.options.topic, { from: 'earliest' });
      await this.read(RETAINED_LOG_READER, client, stop.signal, (message) => {
        retained.push(message);
        lastAt = Date.now();
      });
    } finally {
      clearInterval(watchdog);
      await client.close().catch(() => undefined);
    }
    return retained;
  }

  private consume(name: string, client: Consumer): Promise<void> {
    return this.read(name, client, this.stopConsuming.signal, (message) => {
      this.delivered.push(message);
      this.lastDeliveryAt = Date.now();
    });
  }

  private async read(name: string, client: Consumer, signal: AbortSignal, onMessage: (message: DeliveredMessage) => void): Promise<void> {
    client.on('disconnect', ({ error }) => this.options.say(`consumer ${name} lost its stream (${error.code}); reconnecting`));
    try {
      for await (const message of client.messages(this.options.topic, { signal })) {
        const [producer, sequence] = message.text().split(':');
        onMessage({
          consumer: name,
          producer: producer!,
          sequence: Number(sequence),
          partition: message.partition,
          offset: Number(message.offset),
          storedAt: message.timestamp.getTime(),
        });
      }
    } catch (error) {
      if (!(error instanceof ConsumerError && error.code === 'ABORTED')) throw error;
    }
  }
}
