import { SequenceCounter } from './sequence.js';

/** A producer id the gateway gave this client for one topic (or one partition of it). */
export interface Registration {
  readonly topic: string;
  readonly producerId: number;
  readonly partitionCount: number;
  /** Set when the registration is for a single partition. */
  readonly partition?: number;
  readonly sequences: SequenceCounter;
}

export type RegisterRemote = (
  topic: string,
  partition: number | undefined,
  signal: AbortSignal | undefined,
) => Promise<{ producerId: number; partitionCount: number }>;

/**
 * The producer id to use per topic. send() registers a topic lazily (whole topic) and every send
 * waiting meanwhile shares that one Register call; an explicit register() replaces the topic's id
 * for later sends. A failed registration is forgotten, so the next send tries again.
 */
export class Registrations {
  private readonly byTopic = new Map<string, Promise<Registration>>();
  /** The registrations of byTopic that have arrived, for sends that need not wait for a promise. */
  private readonly arrived = new Map<string, Registration>();
  /** Renewals of expired registrations, by the expired one. */
  private readonly renewals = new WeakMap<Registration, Promise<Registration>>();

  constructor(private readonly registerRemote: RegisterRemote) {}

  /** The registration sends to `topic` use, made now when there is none. */
  forSend(topic: string): Promise<Registration> {
    const existing = this.byTopic.get(topic);
    if (existing) return existing;
    // No signal: this registration is shared by every send that is waiting for it.
    const pending = this.create(topic, undefined, undefined);
    this.byTopic.set(topic, pending);
    pending.then(
      (registration) => {
        if (this.byTopic.get(topic) === pending) this.arrived.set(topic, registration);
      },
      () => {
        if (this.byTopic.get(topic) === pending) this.byTopic.delete(topic);
      },
    );
    return pending;
  }

  /** What forSend() would resolve to, when it already has: lets a send skip a turn of the event loop. */
  arrivedFor(topic: string): Registration | undefined {
    return this.arrived.get(topic);
  }

  /** Registers anew (optionally for one partition); later sends to `topic` use the new id. */
  async register(topic: string, partition: number | undefined, signal: AbortSignal | undefined): Promise<Registration> {
    const registration = await this.create(topic, partition, signal);
    this.byTopic.set(topic, Promise.resolve(registration));
    this.arrived.set(topic, registration);
    return registration;
  }

  /**
   * A new producer id for the topic in place of `expired`, which the cluster removed (idle past its
   * producer expiry). Every batch that met the expired id shares one Register call, and later sends
   * use the new id unless the topic was registered anew meanwhile.
   */
  renew(expired: Registration): Promise<Registration> {
    const existing = this.renewals.get(expired);
    if (existing) return existing;
    const renewal = this.create(expired.topic, expired.partition, undefined);
    this.renewals.set(expired, renewal);
    renewal.then(
      (registration) => {
        if (this.arrived.get(expired.topic) !== expired) return;
        this.byTopic.set(expired.topic, renewal);
        this.arrived.set(expired.topic, registration);
      },
      // A failed renewal is forgotten: the next batch that meets the expired id tries again.
      () => this.renewals.delete(expired),
    );
    return renewal;
  }

  /** Settles once every registration in progress has (for close()). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.byTopic.values()]);
  }

  private async create(topic: string, partition: number | undefined, signal: AbortSignal | undefined): Promise<Registration> {
    const { producerId, partitionCount } = await this.registerRemote(topic, partition, signal);
    return {
      topic,
      producerId,
      partitionCount,
      ...(partition === undefined ? {} : { partition }),
      sequences: new SequenceCounter(),
    };
  }
}
