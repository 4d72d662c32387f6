/** A message a producer had acknowledged, and where. */
export interface AckedMessage {
  /** Undefined when everything judged is on one topic (the soak). */
  topic?: string;
  producer: string;
  sequence: number;
  partition: number;
  offset: number;
  acks: 'all' | 'broker';
  /** ms since the epoch */
  ackedAt: number;
}

/** A message a consumer received. */
export interface DeliveredMessage {
  consumer: string;
  topic?: string;
  producer: string;
  sequence: number;
  partition: number;
  offset: number;
  /**
   * When its broker stored it (the record's timestamp, ms), when known: the same message received
   * twice at one offset with two timestamps was stored twice there (the log was cut back over the
   * first copy and the retry landed at the same offset), not delivered twice.
   */
  storedAt?: number;
}

export interface ConsumerVerdict {
  delivered: number;
  /** The same message received twice. */
  duplicated: number;
  /**
   * Received again after the log was cut back over its first copy: the first copy's answer left its
   * broker, so consumers saw it, but its producer never got the answer (its gateway died, or its
   * Send also carried messages for a partition that failed) and sent it again after that broker was
   * lost for good. Allowed with the loss itself (unless `lossWithBrokerAllowed` is false, when it
   * counts as `duplicated`), and never for acks=all.
   */
  redeliveredAfterLoss: number;
  /** Acknowledged, still in the log at its offset, and never received: the consumer skipped it. */
  skipped: number;
  /**
   * Acknowledged with acks=broker and gone from the log: its offset was later given to another
   * message, as when a broker declared dead takes records the manager had not synced with it. The
   * durability contract allows this; unless `lossWithBrokerAllowed` is false, it is counted, not a
   * violation.
   */
  lostWithBroker: number;
  /** The same for acks=all: a violation. */
  lostAcksAll: number;
  /**
   * Received at a lower offset of a partition than one received before, where the consumer had
   * received nothing else: it read the partition out of offset order. A lower offset that held
   * another message when first received is no violation but the log cut back (a broker lost for
   * good, its offsets given out again), which the consumer then reads anew. Only first copies count;
   * a second copy is `duplicated`.
   */
  outOfOrder: number;
  /**
   * Received after a later-sent message of the same producer in the same partition, for producers
   * that promise their order (the npm producer, idempotent: libs/producer/README.md).
   */
  reordered: number;
}

export interface DeliveryVerdict {
  acked: number;
  consumers: Record<string, ConsumerVerdict>;
  /** Up to 5 examples of each kind of what broke the contract; empty when nothing did. */
  violations: string[];
  ok: boolean;
}

export interface JudgeOptions {
  /** Each consumer, with the topics it subscribed to (undefined: every acknowledged message is its to receive). */
  consumers: ReadonlyMap<string, readonly string[] | undefined>;
  /** Whether a producer promises its order (one send or batch at a time). Default: none does. */
  isOrdered?: (producer: string) => boolean;
  /** Whether an acks=broker message lost with its broker is allowed (counted, not a violation). Default true. */
  lossWithBrokerAllowed?: boolean;
  /**
   * What a reader from the earliest retained offset found after the run. Retention keeps what any
   * consumer has not read, so an acknowledged message no consumer received is in it when the log
   * still holds it. Without it, a message counts as still in the log when no later acknowledgement
   * took its offset, which misses a log cut back after a broker was lost that never grew past the
   * lost offsets again.
   */
  retainedAtEnd?: readonly DeliveredMessage[];
}

const NO_COUNTS: Readonly<ConsumerVerdict> = Object.freeze({
  delivered: 0,
  duplicated: 0,
  redeliveredAfterLoss: 0,
  skipped: 0,
  lostWithBroker: 0,
  lostAcksAll: 0,
  outOfOrder: 0,
  reordered: 0,
});

/** Where and when (the how-manieth delivery) a consumer first received a message. */
interface Receipt {
  partition: string;
  offset: number;
  at: number;
  storedAt: number | undefined;
}

/** A consumer reading a position again that now holds another message: the log was cut back to `to`. */
interface Cut {
  at: number;
  to: number;
}

/** The message received again at its first offset, but another copy of it: stored there anew (its timestamp differs). */
function storedAgainAt(first: Receipt | undefined, message: DeliveredMessage): boolean {
  if (first === undefined || first.offset !== message.offset) return false;
  return first.storedAt !== undefined && message.storedAt !== undefined && first.storedAt !== message.storedAt;
}

/** Examples kept per kind of violation, so that a flood of one kind leaves the others visible. */
const EXAMPLES_PER_KIND = 5;

type ViolationKind = 'duplicated' | 'outOfOrder' | 'skipped' | 'lostWithBroker' | 'lostAcksAll' | 'reordered';

/**
 * Judges deliveries against partq's contract (docs/semantics.md): every acknowledged message still
 * in the log reaches every consumer of its topic once, in offset order per partition, and an
 * ordered producer's messages in the order it sent them. A message counts as still in the log when
 * the end-of-run reader found it (`retainedAtEnd`) or, without one, when no later acknowledgement
 * took its (partition, offset). One the log no longer holds was lost, which acks=broker allows when
 * its broker was declared dead and acks=all never does. The soak and the fault tests both judge
 * with it.
 */
export function judgeDeliveries(acked: readonly AckedMessage[], delivered: readonly DeliveredMessage[], options: JudgeOptions): DeliveryVerdict {
  const isOrdered = options.isOrdered ?? (() => false);
  const lossWithBrokerAllowed = options.lossWithBrokerAllowed ?? true;
  const holder = new Map<string, string>();
  for (const message of [...acked].sort((a, b) => a.ackedAt - b.ackedAt)) holder.set(positionOf(message), idOf(message));
  const violations: string[] = [];
  const kept = new Map<ViolationKind, number>();
  const note = (kind: ViolationKind, text: string): void => {
    const count = kept.get(kind) ?? 0;
    kept.set(kind, count + 1);
    if (count < EXAMPLES_PER_KIND) violations.push(text);
  };
  const acksOf = new Map<string, AckedMessage['acks']>();
  for (const message of acked) acksOf.set(idOf(message), message.acks);
  /** Where the end-of-run reader found each message, when there was one. */
  const retainedAt = options.retainedAtEnd && new Map(options.retainedAtEnd.map((message) => [idOf(message), positionOf(message)]));
  /** Where the log still holds `message`, or undefined when it lost it. */
  const stillAt = (message: AckedMessage): string | undefined => {
    if (retainedAt) return retainedAt.get(idOf(message));
    const where = positionOf(message);
    return holder.get(where) === idOf(message) ? where : undefined;
  };
  const verdicts: Record<string, ConsumerVerdict> = {};
  for (const [consumer, topics] of options.consumers) {
    const verdict: ConsumerVerdict = { ...NO_COUNTS };
    /** Where each message was first received: a second copy at another offset was stored twice, at the same one delivered twice. */
    const seen = new Map<string, Receipt>();
    /** Per partition, where this consumer found the log cut back. */
    const cuts = new Map<string, Cut[]>();
    const cutBackOver = (first: Receipt, now: number): boolean =>
      (cuts.get(first.partition) ?? []).some((cut) => cut.at > first.at && cut.at <= now && cut.to <= first.offset);
    /** Which message each position held when this consumer first received something there. */
    const heldWhenReceived = new Map<string, string>();
    /** The offset read last per partition (a cut-back log rewinds it). */
    const reading = new Map<string, number>();
    /** The last message received per ordered producer and partition. */
    const lastOfProducer = new Map<string, DeliveredMessage>();
    for (const message of delivered) {
      if (message.consumer !== consumer) continue;
      const at = ++verdict.delivered;
      const id = idOf(message);
      const where = positionOf(message);
      const partition = partitionOf(message);
      const earlier = heldWhenReceived.get(where);
      const first = seen.get(id);
      // Another message at a position read before, or this one stored again there: the log was cut back.
      if ((earlier !== undefined && earlier !== id) || storedAgainAt(first, message)) {
        let partitionCuts = cuts.get(partition);
        if (!partitionCuts) cuts.set(partition, (partitionCuts = []));
        partitionCuts.push({ at, to: message.offset });
      }
      if (first !== undefined) {
        if (lossWithBrokerAllowed && acksOf.get(id) !== 'all' && first.partition === partition && cutBackOver(first, at)) {
          verdict.redeliveredAfterLoss++;
        } else {
          verdict.duplicated++;
          note('duplicated', `${consumer} received ${id} twice (at ${first.partition}/${first.offset}, then at ${where})`);
        }
        continue;
      }
      seen.set(id, { partition, offset: message.offset, at, storedAt: message.storedAt });
      const before = reading.get(partition) ?? -1;
      if (message.offset < before && earlier === undefined) {
        verdict.outOfOrder++;
        note('outOfOrder', `${consumer} received ${id} at ${where} after ${partition}/${before}`);
      } else {
        reading.set(partition, message.offset);
      }
      if (earlier === undefined) heldWhenReceived.set(where, id);
      if (!isOrdered(message.producer)) continue;
      const stream = `${message.producer}@${partition}`;
      const last = lastOfProducer.get(stream);
      if (last !== undefined && message.sequence < last.sequence) {
        verdict.reordered++;
        note('reordered', `${consumer} received ${id} at ${where} after ${idOf(last)} at ${positionOf(last)}`);
      } else {
        lastOfProducer.set(stream, message);
      }
    }
    for (const message of acked) {
      if (topics !== undefined && !topics.includes(message.topic ?? '')) continue;
      const id = idOf(message);
      if (seen.has(id)) continue;
      const where = positionOf(message);
      const still = stillAt(message);
      const gone = `${id} (acks=${message.acks}) was acknowledged at ${where}, and the log no longer holds it${
        holder.get(where) === id ? '' : ` (that offset went to ${holder.get(where)})`
      }`;
      if (still !== undefined) {
        verdict.skipped++;
        note('skipped', `${consumer} never received ${id} (acks=${message.acks}), still at ${still}`);
      } else if (message.acks === 'all') {
        verdict.lostAcksAll++;
        note('lostAcksAll', gone);
      } else {
        verdict.lostWithBroker++;
        if (!lossWithBrokerAllowed) note('lostWithBroker', gone);
      }
    }
    verdicts[consumer] = verdict;
  }
  return { acked: acked.length, consumers: verdicts, violations, ok: violations.length === 0 };
}

/** The sum of every consumer's counts. */
export function totalOf(verdict: DeliveryVerdict): ConsumerVerdict {
  const total: ConsumerVerdict = { ...NO_COUNTS };
  for (const counts of Object.values(verdict.consumers)) {
    for (const key of Object.keys(total) as (keyof ConsumerVerdict)[]) total[key] += counts[key];
  }
  return total;
}

function idOf(message: { topic?: string; producer: string; sequence: number }): string {
  return `${message.topic === undefined ? '' : `${message.topic}/`}${message.producer}:${message.sequence}`;
}

function partitionOf(message: { topic?: string; partition: number }): string {
  return `${message.topic === undefined ? '' : `${message.topic}/`}${message.partition}`;
}

function positionOf(message: { topic?: string; partition: number; offset: number }): string {
  return `${partitionOf(message)}/${message.offset}`;
}
