import type { SequenceRun } from '@partq/partition';

/** How many recent sequences per producer are remembered with their offsets. */
// Larger than what a producer client may have in flight (8 batches of 500), so a late retry still dedups.
export const DEFAULT_SEQUENCE_WINDOW = 8192;

/** What the index says about one (producer, sequence) before it is appended. */
export type SequenceCheck =
  | { kind: 'new' }
  | { kind: 'duplicate'; offset: number }
  | { kind: 'too-old'; lowestKnown: number; highest: number };

/** Consecutive sequences that landed at consecutive offsets, remembered as one entry. */
interface Run {
  firstSequence: number;
  firstOffset: number;
  count: number;
}

interface ProducerWindow {
  /**
   * The remembered sequences as runs, in the order they were remembered, oldest at `head`. A batch
   * of a producer's sequences lands at consecutive offsets, and the next batch usually continues
   * both: one run holds all of them. No run shares a sequence with another.
   */
  runs: Run[];
  head: number;
  /** Sequences held by the runs from `head` on. */
  size: number;
  /**
   * Adjacent runs (from `head` on) whose sequences do not ascend from one to the next: while there
   * are none, the runs are sorted by sequence and a lookup is a binary search.
   */
  descents: number;
  /**
   * Sequences below this were forgotten (evicted, or trimmed from the WAL before the index was rebuilt):
   * one of them arriving again cannot be told apart from a retry, so it is refused.
   */
  floor: number;
  highest: number;
  /** When a sequence of this producer was last remembered (ms since the epoch): idle producers expire. */
  usedAtMs: number;
}

/** Where a sequence is remembered: its run's position in `runs`, and its place in the run. */
interface Found {
  at: number;
  index: number;
}

/** Shared: check() answers this for most records, and nobody changes it. */
const NEW: SequenceCheck = Object.freeze({ kind: 'new' });

/**
 * The idempotence index of one partition: for each producer the last `windowSize` sequences it
 * remembered and the offsets they got. A retried append finds its sequence here and gets its
 * original offset back. Sequences may arrive with gaps and out of order (several batches in
 * flight); only a sequence below the remembered window is refused, because it may be a retry of
 * something already forgotten.
 *
 * Why runs, not a Map of sequence to offset: a Map costs a set and an eviction's delete per record,
 * ~0.35 µs each here and 8 % of a broker's CPU with pipelined 100 B messages. A run costs one
 * comparison per record while sequences and offsets both go up by one.
 */
export class ProducerSequences {
  private readonly producers = new Map<number, ProducerWindow>();

  constructor(private readonly windowSize = DEFAULT_SEQUENCE_WINDOW) {
    if (!Number.isSafeInteger(windowSize) || windowSize < 1) throw new RangeError(`windowSize must be a positive integer, got ${windowSize}`);
  }

  check(producerId: number, sequence: number): SequenceCheck {
    const window = this.producers.get(producerId);
    // Above everything remembered (a producer's usual next sequence): new, without a lookup.
    if (!window || sequence > window.highest) return NEW;
    const found = find(window, sequence);
    if (found !== undefined) {
      const run = window.runs[found.at]!;
      return { kind: 'duplicate', offset: run.firstOffset + found.index };
    }
    if (sequence < window.floor) return { kind: 'too-old', lowestKnown: window.floor, highest: window.highest };
    return NEW;
  }

  /**
   * Remembers that `sequence` landed at `offset`, at `atMs` (the record's timestamp). `fromRecovery` marks
   * records replayed from the WAL on open: the lowest of those becomes the floor, since whatever came
   * before was trimmed and is unknown.
   */
  remember(producerId: number, sequence: number, offset: number, fromRecovery = false, atMs = Date.now()): void {
    let window = this.producers.get(producerId);
    if (!window) {
      window = {
        runs: [],
        head: 0,
        size: 0,
        descents: 0,
        floor: fromRecovery ? sequence : Number.NEGATIVE_INFINITY,
        highest: sequence,
        usedAtMs: atMs,
      };
      this.producers.set(producerId, window);
    } else if (atMs > window.usedAtMs) {
      window.usedAtMs = atMs;
    }
    if (sequence <= window.highest) {
      const found = find(window, sequence);
      // Remembered again: only its offset changes, in its place in the order.
      if (found !== undefined) return overwrite(window, found, offset);
    }
    append(window, sequence, offset);
    if (sequence > window.highest) window.highest = sequence;
    if (fromRecovery && sequence < window.floor) window.floor = sequence;
    if (window.size > this.windowSize) evict(window, window.size - this.windowSize);
  }

  /** Remembers a run of sequences replayed from a snapshot, as records replayed from the WAL are (`fromRecovery`). */
  rememberRun(run: SequenceRun, atMs = Date.now()): void {
    for (let i = 0; i < run.count; i++) this.remember(run.producerId, run.firstSequence + i, run.firstOffset + i, true, atMs);
  }

  /**
   * Forgets every producer whose last sequence was remembered before `usedBeforeMs`, floor included
   * (Kafka's producer id expiration): a producer id is per client instance, so without this a broker
   * would hold a window for every client that ever wrote to the partition. A retry of a forgotten
   * producer's record lands again. Returns how many were forgotten.
   */
  expireIdle(usedBeforeMs: number): number {
    let expired = 0;
    for (const [producerId, window] of this.producers) {
      if (window.usedAtMs >= usedBeforeMs) continue;
      this.producers.delete(producerId);
      expired++;
    }
    return expired;
  }

  /** Producers with a remembered window. */
  get producerCount(): number {
    return this.producers.size;
  }

  /**
   * The remembered sequences that landed in offsets [from, to), each producer's runs oldest first
   * (a run that crosses either end is cut there): what must be kept elsewhere once the WAL no longer
   * holds those records.
   */
  runsWithin(from: number, to: number): SequenceRun[] {
    const out: SequenceRun[] = [];
    for (const [producerId, window] of this.producers) {
      for (let at = window.head; at < window.runs.length; at++) {
        const run = window.runs[at]!;
        const first = Math.max(run.firstOffset, from);
        const end = Math.min(run.firstOffset + run.count, to);
        if (first >= end) continue;
        out.push({ producerId, firstSequence: run.firstSequence + (first - run.firstOffset), firstOffset: first, count: end - first });
      }
    }
    return out;
  }

  /** Highest sequence seen from this producer, if any. */
  highestSequence(producerId: number): number | undefined {
    return this.producers.get(producerId)?.highest;
  }

  clear(): void {
    this.producers.clear();
  }
}

function lastSequenceOf(run: Run): number {
  return run.firstSequence + run.count - 1;
}

/** Adds one sequence the window does not hold, as the newest: onto the last run when it continues it. */
function append(window: ProducerWindow, sequence: number, offset: number): void {
  const { runs } = window;
  const last = runs.length > window.head ? runs[runs.length - 1]! : undefined;
  window.size++;
  if (last !== undefined && sequence === lastSequenceOf(last) + 1 && offset === last.firstOffset + last.count) {
    last.count++;
    return;
  }
  if (last !== undefined && sequence < lastSequenceOf(last)) window.descents++;
  runs.push({ firstSequence: sequence, firstOffset: offset, count: 1 });
}

/** Forgets the `count` oldest sequences; the floor rises above each. */
function evict(window: ProducerWindow, count: number): void {
  const { runs } = window;
  while (count > 0) {
    const oldest = runs[window.head]!;
    const taken = Math.min(count, oldest.count);
    const lastEvicted = oldest.firstSequence + taken - 1;
    if (lastEvicted + 1 > window.floor) window.floor = lastEvicted + 1;
    count -= taken;
    window.size -= taken;
    if (taken < oldest.count) {
      // The rest of the run stays; its last sequence, and so its order with the next run, are unchanged.
      oldest.firstSequence += taken;
      oldest.firstOffset += taken;
      oldest.count -= taken;
      continue;
    }
    const next = runs[window.head + 1];
    if (next !== undefined && next.firstSequence < lastSequenceOf(oldest)) window.descents--;
    window.head++;
  }
  // Drop the evicted prefix now and then, so `runs` stays about the window's size.
  if (window.head > 64 && window.head * 2 > runs.length) {
    window.runs = runs.slice(window.head);
    window.head = 0;
  }
}

/** Gives a remembered sequence a new offset: its run is split around it, in place. */
function overwrite(window: ProducerWindow, found: Found, offset: number): void {
  const run = window.runs[found.at]!;
  if (run.firstOffset + found.index === offset) return;
  const parts: Run[] = [];
  if (found.index > 0) parts.push({ firstSequence: run.firstSequence, firstOffset: run.firstOffset, count: found.index });
  parts.push({ firstSequence: run.firstSequence + found.index, firstOffset: offset, count: 1 });
  const after = run.count - found.index - 1;
  if (after > 0) parts.push({ firstSequence: run.firstSequence + found.index + 1, firstOffset: run.firstOffset + found.index + 1, count: after });
  // The parts ascend, and the first and last keep the run's ends: no pair of neighbours changes order.
  window.runs.splice(found.at, 1, ...parts);
}

/** The run holding `sequence`, if any: a binary search while the runs ascend, else a scan from the newest. */
function find(window: ProducerWindow, sequence: number): Found | undefined {
  const { runs } = window;
  if (window.descents === 0) {
    let low = window.head;
    let high = runs.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const run = runs[middle]!;
      if (sequence < run.firstSequence) high = middle - 1;
      else if (sequence > lastSequenceOf(run)) low = middle + 1;
      else return { at: middle, index: sequence - run.firstSequence };
    }
    return undefined;
  }
  for (let at = runs.length - 1; at >= window.head; at--) {
    const run = runs[at]!;
    if (sequence >= run.firstSequence && sequence <= lastSequenceOf(run)) return { at, index: sequence - run.firstSequence };
  }
  return undefined;
}
