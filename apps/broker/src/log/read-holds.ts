/** Until when a range of records is held back from readers. */
export type HoldUntil = 'committed' | 'acknowledged';

/** Offsets [first, end) readers may not see yet. */
interface HeldRange {
  first: number;
  end: number;
  until: HoldUntil;
}

/**
 * The records of one partition that readers (replicas' Fetch and Tail) may not see yet, although
 * they are durable here.
 *
 * Why: a reader that saw a record this broker then loses for good (it dies before the manager's
 * sync, its partitions move) has moved past an offset the next owner hands out again. A producer
 * that was never acknowledged for such a record sends it again: its consumers would get it twice
 * and skip whatever took its old offset. So:
 *
 * - records appended with acks=all are held until the manager commits them to PostgreSQL (the WAL
 *   marks them, Record.held_until_committed, and the holds are rebuilt from it when the log is
 *   reopened);
 * - records appended with acks=broker are held until their acknowledgement is on its way to the
 *   producer, or the manager commits them. Losing acknowledged ones with the broker is what that
 *   mode accepts; an append frozen between its fsync and its answer (SIGSTOP, then refused by the
 *   stall fence) was not acknowledged, and a soak saw consumers receive such records twice once the
 *   producer's retry landed at the partition's next owner.
 */
export class ReadHolds {
  /** Ascending and disjoint: offsets are handed out in order. */
  private readonly ranges: HeldRange[] = [];

  /** Holds [first, end) back from readers until committed, or acknowledged too. */
  hold(first: number, end: number, until: HoldUntil = 'committed'): void {
    if (end <= first) return;
    const last = this.ranges[this.ranges.length - 1];
    if (last && last.until === until && first <= last.end) last.end = Math.max(last.end, end);
    else this.ranges.push({ first, end, until });
  }

  /**
   * Where readers must stop: the durable end, or the first held offset. Everything held lies at or
   * above the last commit: `release` is called whenever the committed high watermark moves.
   */
  readableEnd(durableEnd: number): number {
    const first = this.ranges[0];
    return first === undefined ? durableEnd : Math.min(durableEnd, first.first);
  }

  /** Forgets what is committed (below `committed`); true when something was released. */
  release(committed: number): boolean {
    let released = 0;
    while (released < this.ranges.length && this.ranges[released]!.end <= committed) released++;
    const head = this.ranges[released];
    const partly = head !== undefined && head.first < committed;
    if (partly) head.first = committed;
    this.ranges.splice(0, released);
    return released > 0 || partly;
  }

  /**
   * Releases the offsets [first, end) held until acknowledged (their acknowledgement is sent); those
   * held until committed stay. True when the readable end may have moved.
   */
  acknowledge(first: number, end: number): boolean {
    let headChanged = false;
    for (let i = 0; i < this.ranges.length; i++) {
      const range = this.ranges[i]!;
      if (range.first >= end) break;
      if (range.end <= first || range.until !== 'acknowledged') continue;
      if (i === 0 && first <= range.first) headChanged = true;
      if (first <= range.first && end >= range.end) {
        this.ranges.splice(i--, 1);
      } else if (first <= range.first) {
        range.first = end;
      } else if (end >= range.end) {
        range.end = first;
      } else {
        // Released from the middle: what follows stays held on its own.
        this.ranges.splice(i + 1, 0, { first: end, end: range.end, until: range.until });
        range.end = first;
        break;
      }
    }
    return headChanged;
  }

  /** Forgets every hold (they are about to be rebuilt from the WAL). */
  clear(): void {
    this.ranges.length = 0;
  }
}
