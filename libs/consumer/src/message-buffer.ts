import type { ConsumedMessage } from './consumed-message.js';

/**
 * Messages the gateway already handed to this consumer (its position moved past them) that were not
 * yielded yet, per topic. A fetch brings up to maxMessages; whatever an iteration that stopped early
 * left behind is served first by the next dequeue() or messages() on the same topic.
 */
export class MessageBuffer {
  private readonly byTopic = new Map<string, ConsumedMessage[]>();

  push(topic: string, messages: readonly ConsumedMessage[]): void {
    if (messages.length === 0) return;
    const queue = this.byTopic.get(topic);
    if (queue) queue.push(...messages);
    else this.byTopic.set(topic, [...messages]);
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  take(topic: string): ConsumedMessage | undefined {
    const queue = this.byTopic.get(topic);
    const message = queue?.shift();
    if (queue?.length === 0) this.byTopic.delete(topic);
    return message;
  }

  takeUpTo(topic: string, max: number): ConsumedMessage[] {
    const queue = this.byTopic.get(topic);
    if (!queue) return [];
    const taken = queue.splice(0, max);
    if (queue.length === 0) this.byTopic.delete(topic);
    return taken;
  }

  /** How many are waiting, per partition. */
  countByPartition(topic: string): Map<number, number> {
    const counts = new Map<number, number>();
    for (const message of this.byTopic.get(topic) ?? []) counts.set(message.partition, (counts.get(message.partition) ?? 0) + 1);
    return counts;
  }

  clear(): void {
    this.byTopic.clear();
  }
}
