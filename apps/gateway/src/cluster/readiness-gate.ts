import type { MetadataView } from '@partq/cluster';
import { PartqError } from '@partq/runtime';

/**
 * Holds requests that arrive before the first metadata snapshot (the gateway listens at once, but
 * cannot route anything before it knows the cluster), for a bounded time, rather than answer
 * NOT_FOUND for topics that exist.
 */
export class ReadinessGate {
  constructor(
    private readonly view: MetadataView,
    private readonly waitMs = 5000,
  ) {}

  /** Whether a request may pass at once (the check a hook makes before it waits). */
  get ready(): boolean {
    return this.view.ready;
  }

  async pass(): Promise<void> {
    if (this.ready) return;
    if (await this.view.waitForVersion(0, this.waitMs)) return;
    throw new PartqError('UNAVAILABLE', 'the gateway has not received the cluster metadata from the manager yet');
  }
}
