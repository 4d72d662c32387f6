/** A consumer id the gateway gave this client for one topic (or one partition of it). */
export interface Registration {
  readonly topic: string;
  readonly consumerId: number;
  /** Set when the registration is for a single partition. */
  readonly partition?: number;
}

export interface RegisterRequest {
  partition?: number;
  fromEarliest: boolean;
}

export type RegisterRemote = (topic: string, request: RegisterRequest, signal: AbortSignal | undefined) => Promise<number>;

/**
 * The consumer id to read with, per topic. Reading a topic that was not registered registers it
 * (whole topic, from the latest offset) once, shared by every call waiting meanwhile; an explicit
 * register() replaces the id. A failed registration is forgotten, so the next call tries again.
 */
export class Registrations {
  private readonly byTopic = new Map<string, Promise<Registration>>();

  constructor(private readonly registerRemote: RegisterRemote) {}

  forRead(topic: string): Promise<Registration> {
    const existing = this.byTopic.get(topic);
    if (existing) return existing;
    // No signal: this registration is shared by every call that is waiting for it.
    const pending = this.create(topic, { fromEarliest: false }, undefined);
    this.byTopic.set(topic, pending);
    pending.catch(() => {
      if (this.byTopic.get(topic) === pending) this.byTopic.delete(topic);
    });
    return pending;
  }

  async register(topic: string, request: RegisterRequest, signal: AbortSignal | undefined): Promise<Registration> {
    const registration = await this.create(topic, request, signal);
    this.byTopic.set(topic, Promise.resolve(registration));
    return registration;
  }

  private async create(topic: string, request: RegisterRequest, signal: AbortSignal | undefined): Promise<Registration> {
    const consumerId = await this.registerRemote(topic, request, signal);
    return { topic, consumerId, ...(request.partition === undefined ? {} : { partition: request.partition }) };
  }
}
