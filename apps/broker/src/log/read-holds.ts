/** Offsets [first, end) readers may not see until the manager has committed them. */
interface HeldRange {
  first: number;
  end: number;
}

/**
 * The records of one partition that readers (replicas' Fetch and Tail) may not see yet, although
 * they are durable here: those appended with acks=all, until the manager commits them to PostgreSQL.
 *
 * Why: a reader that saw a record this broker then loses for good (it dies before the manager's
 * sync, its partitions move) has moved past an offset the next owner hands out again. An acks=all
 * producer was never acknowledged for such a record, so it sends it again: its consumers would get
 * it twice and skip whatever took its old offset. Records appended with acks=broker stay visible at
 * once: losing them with the broker is what that mode accepts. The WAL marks the records appended with
 * acks=all (Record.held_until_committed), and the holds are rebuilt from it when the log is reopened.
 */
export class ReadHolds {
  /** Ascending and disjoint: offsets are handed out in order. */
  private readonly ranges: HeldRange[] = [];

  /** Holds [first, end) back from readers until committed. */
  hold(first: number, end: number): void {
    if (end <= first) return;
    const last = this.ranges[this.ranges.length - 1];
    if (last && first <= last.end) last.end = Math.max(last.end, end);
    else this.ranges.push({ first, end });
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

  /** Forgets every hold (they are about to be rebuilt from the WAL). */
  clear(): void {
    this.ranges.length = 0;
  }
}
