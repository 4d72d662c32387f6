/** Histogram buckets: 20 per decade from 10 µs to 100 s, log-spaced. */
export const HISTOGRAM_MIN_MS = 0.01;
export const HISTOGRAM_BUCKETS_PER_DECADE = 20;
export const HISTOGRAM_DECADES = 7;
const BUCKETS = HISTOGRAM_BUCKETS_PER_DECADE * HISTOGRAM_DECADES;

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Counts per log-spaced bucket; bucket i covers [lowerBoundMs(i), lowerBoundMs(i + 1)). */
export interface LatencyHistogram {
  counts: number[];
}

export function bucketLowerBoundMs(index: number): number {
  return HISTOGRAM_MIN_MS * 10 ** (index / HISTOGRAM_BUCKETS_PER_DECADE);
}

function bucketOf(ms: number): number {
  if (!(ms > HISTOGRAM_MIN_MS)) return 0;
  const index = Math.floor(Math.log10(ms / HISTOGRAM_MIN_MS) * HISTOGRAM_BUCKETS_PER_DECADE);
  return Math.min(BUCKETS - 1, index);
}

/**
 * Every latency sample of a measurement (8 bytes each, so a few million are fine), for exact
 * percentiles, plus a log-bucket histogram for the SVG.
 */
export class LatencyRecorder {
  private samples = new Float64Array(1024);
  private length = 0;
  private readonly counts = new Array<number>(BUCKETS).fill(0);

  record(ms: number): void {
    if (this.length === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.length++] = ms;
    this.counts[bucketOf(ms)]!++;
  }

  get count(): number {
    return this.length;
  }

  /** Samples over `ms`. */
  countAbove(ms: number): number {
    let above = 0;
    for (let i = 0; i < this.length; i++) if (this.samples[i]! > ms) above++;
    return above;
  }

  /** Nearest-rank percentiles over every sample; zeros when there is none. */
  summary(): LatencySummary {
    if (this.length === 0) return { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };
    const sorted = this.samples.slice(0, this.length).sort();
    const rank = (p: number): number => sorted[Math.min(this.length - 1, Math.max(0, Math.ceil(p * this.length) - 1))]!;
    let sum = 0;
    for (const value of sorted) sum += value;
    return { count: this.length, p50Ms: rank(0.5), p99Ms: rank(0.99), maxMs: sorted[this.length - 1]!, meanMs: sum / this.length };
  }

  histogram(): LatencyHistogram {
    return { counts: [...this.counts] };
  }
}
