/** First wait after an empty fetch; it doubles while fetches stay empty, up to pollIntervalMs. */
const FIRST_IDLE_WAIT_MS = 10;

/**
 * How long messages() waits before fetching again after an empty answer: short at first, so a
 * consumer that just drained a topic sees the next message quickly, growing to pollIntervalMs so
 * an idle consumer costs the gateway a few calls a second at most.
 */
export class IdleBackoff {
  private emptyFetches = 0;

  constructor(private readonly maxWaitMs: number) {}

  /** Records an empty fetch and returns how long to wait. */
  next(): number {
    const wait = Math.min(this.maxWaitMs, FIRST_IDLE_WAIT_MS * 2 ** Math.min(this.emptyFetches, 20));
    this.emptyFetches++;
    return wait;
  }

  reset(): void {
    this.emptyFetches = 0;
  }
}
