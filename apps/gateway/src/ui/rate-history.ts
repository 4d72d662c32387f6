/** Cumulative counts per key (topic) at one moment. */
export interface CounterSample {
  atMs: number;
  totals: ReadonlyMap<string, number>;
}

export interface RateHistoryOptions {
  /** The headline rate is the average over this much time. */
  windowMs: number;
  /** How many per-interval rates `series` keeps (the sparkline's width). */
  seriesLength: number;
  /** Expected time between samples; sizes the buffer so the window always fits. */
  sampleIntervalMs: number;
}

/**
 * Rates (per second) from samples of monotonic counters: the average over a sliding window, and
 * the rate of each interval between samples for sparklines. A key missing from a sample counts as
 * 0 there (its counter had not been created yet).
 */
export class RateHistory {
  private readonly samples: CounterSample[] = [];
  private readonly capacity: number;

  constructor(private readonly options: RateHistoryOptions) {
    const windowSamples = Math.ceil(options.windowMs / Math.max(1, options.sampleIntervalMs)) + 1;
    this.capacity = Math.max(options.seriesLength + 1, windowSamples + 1, 2);
  }

  get windowMs(): number {
    return this.options.windowMs;
  }

  record(sample: CounterSample): void {
    const last = this.samples.at(-1);
    // A clock step backwards would give negative intervals: keep the history monotonic.
    if (last && sample.atMs <= last.atMs) return;
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
  }

  /** Keys seen in any kept sample. */
  keys(): string[] {
    const keys = new Set<string>();
    for (const sample of this.samples) for (const key of sample.totals.keys()) keys.add(key);
    return [...keys];
  }

  /** The latest cumulative count of `key`, or of every key when it is undefined. */
  total(key?: string): number {
    const last = this.samples.at(-1);
    return last ? totalOf(last, key) : 0;
  }

  /** Average per second over the window ending at the latest sample; 0 until two samples exist. */
  rate(key?: string): number {
    const last = this.samples.at(-1);
    if (!last) return 0;
    const first = this.samples.find((sample) => last.atMs - sample.atMs <= this.options.windowMs);
    if (!first || first === last) return 0;
    return perSecond(totalOf(last, key) - totalOf(first, key), last.atMs - first.atMs);
  }

  /** Per-second rate of each interval between kept samples, oldest first, at most `seriesLength`. */
  series(key?: string): number[] {
    const rates: number[] = [];
    for (let i = 1; i < this.samples.length; i++) {
      const before = this.samples[i - 1]!;
      const after = this.samples[i]!;
      rates.push(perSecond(totalOf(after, key) - totalOf(before, key), after.atMs - before.atMs));
    }
    return rates.slice(-this.options.seriesLength);
  }
}

function totalOf(sample: CounterSample, key: string | undefined): number {
  if (key !== undefined) return sample.totals.get(key) ?? 0;
  let sum = 0;
  for (const value of sample.totals.values()) sum += value;
  return sum;
}

/** A counter never goes down; a restart of the process would start a new history anyway. */
function perSecond(delta: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (Math.max(0, delta) * 1000) / elapsedMs : 0;
}
