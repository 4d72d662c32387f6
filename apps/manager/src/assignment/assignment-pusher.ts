import type { PartitionAssignment } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import type { BrokerClients } from '../membership/broker-clients.js';

interface Waiter {
  timeoutMs: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Pushes brokers their complete assignment (Assign, complete): one call at a time per broker, each
 * computed as it leaves, and requests made while one is in flight share the next. A broker applies
 * Assigns in the order they arrive, and a complete one removes, files and all, every partition it
 * does not list. Pushes sent side by side (a rebalance moves many partitions at once) arrived out of
 * order, and an older one removed a partition a newer one had just given the broker, together with
 * what the broker had acknowledged on it since.
 */
export class AssignmentPusher {
  private readonly waiting = new Map<number, Waiter[]>();
  private readonly pushing = new Set<number>();

  constructor(
    private readonly brokers: Pick<BrokerClients, 'get'>,
    private readonly assignmentsFor: (brokerId: number) => PartitionAssignment[],
  ) {}

  /** Resolves once the broker has applied an assignment computed after this call; rejects when that push failed. */
  push(brokerId: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(brokerId) ?? [];
      waiters.push({ timeoutMs, resolve, reject });
      this.waiting.set(brokerId, waiters);
      if (!this.pushing.has(brokerId)) void this.pushWhileWaited(brokerId);
    });
  }

  private async pushWhileWaited(brokerId: number): Promise<void> {
    this.pushing.add(brokerId);
    try {
      for (let waiters = this.take(brokerId); waiters.length > 0; waiters = this.take(brokerId)) {
        try {
          const client = this.brokers.get(brokerId);
          if (!client) throw new PartqError('UNAVAILABLE', `broker ${brokerId} has no address`);
          const timeoutMs = Math.max(...waiters.map((waiter) => waiter.timeoutMs));
          await client.assign({ assignments: this.assignmentsFor(brokerId), complete: true }, { timeoutMs });
          for (const waiter of waiters) waiter.resolve();
        } catch (error) {
          for (const waiter of waiters) waiter.reject(error);
        }
      }
    } finally {
      this.pushing.delete(brokerId);
    }
  }

  private take(brokerId: number): Waiter[] {
    const waiters = this.waiting.get(brokerId) ?? [];
    this.waiting.delete(brokerId);
    return waiters;
  }
}
