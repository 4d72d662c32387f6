/**
 * The end of one round of waits: a consume stream waits at each of its partitions until the first
 * has news, then ends the rest. It does what an AbortSignal would do for them at a fraction of the
 * cost: a stream caught up waits about once per delivery, ~1 000 times a second at 2 000 msg/s, and
 * an AbortController with a listener per wait took ~11 µs a round where this takes ~0.6 µs
 * (docs/performance-log.md, round 31).
 */
export class WaitRound {
  private ended = false;
  private listeners: (() => void)[] = [];

  /** Whether the round ended: a wait that starts now gives up at once. */
  get over(): boolean {
    return this.ended;
  }

  /** Calls `listener` once, when the round ends; never if it already has (look at `over` first). */
  onOver(listener: () => void): void {
    if (!this.ended) this.listeners.push(listener);
  }

  /** Forgets `listener`: its wait ended on its own. */
  offOver(listener: () => void): void {
    const index = this.listeners.indexOf(listener);
    if (index >= 0) this.listeners.splice(index, 1);
  }

  /** Ends the round, once: every listener still there is called. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
