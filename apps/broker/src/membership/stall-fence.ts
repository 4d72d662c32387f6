import { PartqError, type Logger } from '@partq/runtime';

export interface StallFenceOptions {
  /** A gap this long between two turns of the event loop is a stall. */
  thresholdMs: number;
  /** How often the loop is looked at while nothing else runs (default a quarter of the threshold, at least 100 ms). */
  tickMs?: number;
  logger: Logger;
  /** Called once when a stall fences the broker (the manager link asks the manager at once). */
  onStall?: () => void;
  /** The clock (tests drive it by hand). */
  now?: () => number;
}

/** The timer's shortest period: an idle broker wakes for it, since only the timer tells a stall from a quiet loop. */
const MIN_TICK_MS = 100;
/** The shortest threshold a fence is fitted to (see fitTo). */
const MIN_THRESHOLD_MS = 100;
/** What fitTo leaves for a heartbeat's way to the manager and the manager's own check period. */
const HEARTBEAT_MARGIN_MS = 250;

/**
 * Keeps a broker that was frozen (SIGSTOP, a paused VM, a long GC) from acknowledging appends it
 * may no longer own. While it was frozen its heartbeats stopped; the manager may have declared it
 * dead and moved its partitions under a new epoch, and the broker cannot know until it hears from
 * the manager. Appends queued at its socket would otherwise be acknowledged on waking and then
 * truncated when it learns the new epoch: a soak saw such acks=broker messages lost 40-50 ms after
 * SIGCONT. So after a stall every append is refused with UNAVAILABLE (the gateway retries, with the
 * same sequence) until the manager answers a heartbeat sent after the stall; an append that was in
 * flight across the stall is refused too, as its acknowledgement would come just as late.
 *
 * Only the broker's own stall fences it: a manager that is merely unreachable cannot declare anyone
 * dead for that time (it counts only time it ran), so brokers keep serving through its outages.
 */
export class StallFence {
  private readonly now: () => number;
  private thresholdMs: number;
  private tickMs: number;
  private lastSeenAt: number;
  /** When the most recent stall was noticed (its end). */
  private stallEndedAt = Number.NEGATIVE_INFINITY;
  private fencedSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stallCount = 0;

  constructor(private readonly options: StallFenceOptions) {
    this.now = options.now ?? Date.now;
    this.thresholdMs = options.thresholdMs;
    this.tickMs = this.tickFor(options.thresholdMs);
    this.lastSeenAt = this.now();
  }

  start(): void {
    this.lastSeenAt = this.now();
    this.timer = setInterval(() => this.observe(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Fits the fence to the manager, which declares a broker dead after `brokerTimeoutMs` of silence
   * while heartbeats leave every `heartbeatIntervalMs`: a stall longer than the difference can cost
   * the broker its partitions. The fence notices stalls that long (less a margin), however long it
   * was configured; it is never made longer than configured. A manager with a 2 s timeout and a
   * broker with the default fence (1 s, noticed past 1.25 s) let a broker stopped for ~1.1 s be
   * declared dead, wake unfenced and acknowledge appends that were then lost.
   */
  fitTo(brokerTimeoutMs: number, heartbeatIntervalMs: number): void {
    const budget = brokerTimeoutMs - heartbeatIntervalMs - HEARTBEAT_MARGIN_MS;
    // Noticed past threshold + tick, the tick a quarter of the threshold but at least MIN_TICK_MS.
    const fitting = Math.max(MIN_THRESHOLD_MS, Math.min(Math.floor(budget * 0.8), budget - MIN_TICK_MS));
    const threshold = Math.min(this.options.thresholdMs, fitting);
    if (threshold === this.thresholdMs) return;
    this.thresholdMs = threshold;
    this.tickMs = this.tickFor(threshold);
    if (this.timer) {
      this.stop();
      this.start();
    }
    this.options.logger.info(
      { thresholdMs: threshold, configuredMs: this.options.thresholdMs, brokerTimeoutMs, heartbeatIntervalMs },
      threshold < this.options.thresholdMs ? 'broker: stall fence shortened to fit the manager’s broker timeout' : 'broker: stall fence back to its configured length',
    );
  }

  get fenced(): boolean {
    return this.fencedSince !== undefined;
  }

  /** Stalls noticed since the start, for the metric. */
  get stalls(): number {
    return this.stallCount;
  }

  /**
   * Notes that the loop runs now; a gap since it was last seen running longer than the threshold is a
   * stall. Appends look too: on waking, queued I/O runs before the overdue timer.
   */
  observe(now = this.now()): number {
    const gap = now - this.lastSeenAt;
    this.lastSeenAt = now;
    if (gap <= this.thresholdMs + this.tickMs) return now;
    this.stallEndedAt = now;
    this.stallCount++;
    if (this.fencedSince === undefined) {
      this.fencedSince = now;
      this.options.logger.warn({ stalledMs: gap }, 'broker: the process stalled; refusing appends until the manager confirms its partitions');
      this.options.onStall?.();
    }
    return now;
  }

  /** UNAVAILABLE while fenced. Returns the time, for `assertNoStallSince`. */
  assertServing(): number {
    const now = this.observe();
    if (this.fencedSince !== undefined) throw fencedError();
    return now;
  }

  /** UNAVAILABLE when a stall ended after `since`: an append that started then would be acknowledged too late. */
  assertNoStallSince(since: number): void {
    this.observe();
    if (this.stallEndedAt > since) throw fencedError();
  }

  /**
   * The manager answered a call sent at `sentAt`, and its assignment has been applied: the fence lifts
   * when the call left after the last stall, since the answer then reflects any verdict on it.
   */
  confirmed(sentAt: number): void {
    if (this.fencedSince === undefined || sentAt < this.stallEndedAt) return;
    this.options.logger.info({ fencedMs: this.now() - this.fencedSince }, 'broker: the manager confirmed its partitions; serving appends again');
    this.fencedSince = undefined;
  }

  private tickFor(thresholdMs: number): number {
    return this.options.tickMs ?? Math.max(MIN_TICK_MS, Math.floor(thresholdMs / 4));
  }
}

function fencedError(): PartqError {
  return new PartqError('UNAVAILABLE', 'the broker stalled and is confirming with the manager that it still owns its partitions; retry');
}
