/** A message a producer had acknowledged, and where. */
export interface AckedMessage {
  producer: string;
  sequence: number;
  partition: number;
  offset: number;
  acks: 'all' | 'broker';
  ackedAt: number;
}

/** A message a consumer received. */
export interface DeliveredMessage {
  consumer: string;
  producer: string;
  sequence: number;
  partition: number;
  offset: number;
}

export interface ConsumerVerdict {
  delivered: number;
  /** The same message received twice. */
  duplicated: number;
  /** Acknowledged, still in the log at its offset, and never received: the consumer skipped it. */
  skipped: number;
  /**
   * Acknowledged with acks=broker and gone from the log: its offset was later given to another
   * message, as when a broker declared dead takes records the manager had not synced with it. The
   * durability contract allows this; it is counted, not a violation.
   */
  lostWithBroker: number;
  /** The same for acks=all: a violation. */
  lostAcksAll: number;
}

export interface SoakVerdict {
  acked: number;
  consumers: Record<string, ConsumerVerdict>;
  /** Up to 20 examples of what broke the contract; empty when nothing did. */
  violations: string[];
  ok: boolean;
}

const MAX_EXAMPLES = 20;

/**
 * Judges a soak against partq's contract: every acknowledged message still in the log reaches every
 * consumer once. A message counts as still in the log when no later acknowledgement took its
 * (partition, offset); one whose offset was reused was lost by the log, which acks=broker allows
 * when its broker was declared dead and acks=all never does.
 */
export function judgeSoak(acked: readonly AckedMessage[], delivered: readonly DeliveredMessage[], consumers: readonly string[]): SoakVerdict {
  const holder = new Map<string, string>();
  for (const message of [...acked].sort((a, b) => a.ackedAt - b.ackedAt)) holder.set(`${message.partition}/${message.offset}`, idOf(message));
  const violations: string[] = [];
  const note = (text: string): void => void (violations.length < MAX_EXAMPLES && violations.push(text));
  const verdicts: Record<string, ConsumerVerdict> = {};
  for (const consumer of consumers) {
    const verdict: ConsumerVerdict = { delivered: 0, duplicated: 0, skipped: 0, lostWithBroker: 0, lostAcksAll: 0 };
    /** Where each message was first received: a second copy at another offset was stored twice, at the same one delivered twice. */
    const seen = new Map<string, string>();
    for (const message of delivered) {
      if (message.consumer !== consumer) continue;
      verdict.delivered++;
      const id = idOf(message);
      const where = `${message.partition}/${message.offset}`;
      const first = seen.get(id);
      if (first !== undefined) {
        verdict.duplicated++;
        note(`${consumer} received ${id} twice (at ${first}, then at ${where})`);
      } else {
        seen.set(id, where);
      }
    }
    for (const message of acked) {
      const id = idOf(message);
      if (seen.has(id)) continue;
      const where = `${message.partition}/${message.offset}`;
      if (holder.get(where) === id) {
        verdict.skipped++;
        note(`${consumer} never received ${id} (acks=${message.acks}), still at ${where}`);
      } else if (message.acks === 'all') {
        verdict.lostAcksAll++;
        note(`${id} (acks=all) was acknowledged at ${where}, then that offset went to ${holder.get(where)}`);
      } else {
        verdict.lostWithBroker++;
      }
    }
    verdicts[consumer] = verdict;
  }
  return { acked: acked.length, consumers: verdicts, violations, ok: violations.length === 0 };
}

function idOf(message: { producer: string; sequence: number }): string {
  return `${message.producer}:${message.sequence}`;
}
