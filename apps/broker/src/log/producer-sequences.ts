/** How many recent sequences per producer are remembered with their offsets. */
// Larger than what a producer client may have in flight (8 batches of 500), so a late retry still dedups.
export const DEFAULT_SEQUENCE_WINDOW = 8192;

/** What the index says about one (producer, sequence) before it is appended. */
export type SequenceCheck =
  | { kind: 'new' }
  | { kind: 'duplicate'; offset: number }
  | { kind: 'too-old'; lowestKnown: number; highest: number };

interface ProducerWindow {
  /** sequence -> offset. */
  readonly offsets: Map<number, number>;
  /**
   * The sequences of `offsets` in the order they were remembered, oldest at `head`. Evicting through
   * `offsets.keys().next()` instead costs a walk over every entry deleted since the Map last
   * rehashed (thousands at this window size): it was a visible share of the broker's append path.
   */
  order: number[];
  head: number;
  /**
   * Sequences below this were forgotten (evicted, or trimmed from the WAL before the index was rebuilt):
   * one of them arriving again cannot be told apart from a retry, so it is refused.
   */
  floor: number;
  highest: number;
}

/** Shared: check() answers this for most records, and nobody changes it. */
const NEW: SequenceCheck = Object.freeze({ kind: 'new' });

/**
 * The idempotence index of one partition: for each producer the last `windowSize` sequences and the
 * offsets they got. A retried append finds its sequence here and gets its original offset back.
 * Sequences may arrive with gaps and out of order (several batches in flight); only a sequence below the
 * remembered window is refused, because it may be a retry of something already forgotten.
 */
export class ProducerSequences {
  private readonly producers = new Map<number, ProducerWindow>();

  constructor(private readonly windowSize = DEFAULT_SEQUENCE_WINDOW) {}

  check(producerId: number, sequence: number): SequenceCheck {
    const window = this.producers.get(producerId);
    // Above everything remembered (a producer's usual next sequence): new, without a lookup.
    if (!window || sequence > window.highest) return NEW;
    const offset = window.offsets.get(sequence);
    if (offset !== undefined) return { kind: 'duplicate', offset };
    if (sequence < window.floor) return { kind: 'too-old', lowestKnown: window.floor, highest: window.highest };
    return NEW;
  }

  /**
   * Remembers that `sequence` landed at `offset`. `fromRecovery` marks records replayed from the WAL on
   * open: the lowest of those becomes the floor, since whatever came before was trimmed and is unknown.
   */
  remember(producerId: number, sequence: number, offset: number, fromRecovery = false): void {
    let window = this.producers.get(producerId);
    if (!window) {
      window = { offsets: new Map(), order: [], head: 0, floor: fromRecovery ? sequence : Number.NEGATIVE_INFINITY, highest: sequence };
      this.producers.set(producerId, window);
    }
    // Above the highest it cannot be remembered yet: one Map operation instead of two.
    if (sequence > window.highest || !window.offsets.has(sequence)) window.order.push(sequence);
    window.offsets.set(sequence, offset);
    if (sequence > window.highest) window.highest = sequence;
    if (fromRecovery && sequence < window.floor) window.floor = sequence;
    while (window.offsets.size > this.windowSize) {
      const oldest = window.order[window.head++]!;
      window.offsets.delete(oldest);
      if (oldest + 1 > window.floor) window.floor = oldest + 1;
    }
    // Drop the evicted prefix now and then, so `order` stays about the window's size.
    if (window.head > this.windowSize) {
      window.order = window.order.slice(window.head);
      window.head = 0;
    }
  }

  /** Highest sequence seen from this producer, if any. */
  highestSequence(producerId: number): number | undefined {
    return this.producers.get(producerId)?.highest;
  }

  clear(): void {
    this.producers.clear();
  }
}
