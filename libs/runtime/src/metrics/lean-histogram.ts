import type { Metric, Registry } from 'prom-client';

export interface LeanHistogramConfig<L extends string> {
  name: string;
  help: string;
  /** Upper bounds of the buckets, ascending; `+Inf` is added. */
  buckets: readonly number[];
  labelNames?: readonly L[];
  registry: Registry;
}

/** One label set's counts: bind it once (`series`) where the same labels are observed again and again. */
export interface HistogramSeries {
  observe(value: number): void;
}

/** Label values by name; every name of the histogram is given. */
export type HistogramLabels<L extends string> = Readonly<Record<L, string>>;

/**
 * A sample as prom-client's registry prints it: `labels`, then the registry's default labels, then
 * `sharedLabels` (where prom-client's histograms put a series' own labels, after `le` and `role`).
 */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
}

class Series implements HistogramSeries {
  /** Observations per bucket (not cumulative), the last one for +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`a histogram observes finite numbers, got ${value}`);
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram, exported through a prom-client registry in prom-client's own text format,
 * whose observations cost a bucket search and three additions.
 *
 * Why not prom-client's Histogram: each of its observations validates the labels and hashes them
 * into a string key, ~2 µs here even when hot. The brokers, the gateway and the replica observe
 * several of them per call and per Append, each a few percent of their CPU on the end-to-end and
 * REST lines (docs/performance-log.md, round 37). Here a label set is looked up once per call at
 * most, and not at all through a bound series.
 */
export class LeanHistogram<L extends string = never> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  private readonly labelNames: readonly L[];
  private readonly byKey = new Map<string, Series>();

  constructor(config: LeanHistogramConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? [];
    if (config.buckets.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= config.buckets[i - 1]!))) {
      throw new RangeError(`${config.name}: bucket bounds must be finite and ascending, got ${config.buckets.join(', ')}`);
    }
    this.bounds = [...config.buckets];
    // As prom-client does: a histogram without labels shows its zero buckets before the first observation.
    if (this.labelNames.length === 0) this.series({} as HistogramLabels<L>);
    // prom-client types a registry's metrics as its own classes; it reads only name, help, type,
    // aggregator, get() and reset() of each (Registry.metrics, getMetricsAsJSON, resetMetrics).
    config.registry.registerMetric(this as unknown as Metric);
  }

  /** The series of `labels`, created at first use. */
  series(labels: HistogramLabels<L>): HistogramSeries {
    const key = this.keyOf(labels);
    let series = this.byKey.get(key);
    if (!series) {
      const own: Record<string, string> = {};
      for (const name of this.labelNames) own[name] = labels[name];
      series = new Series(own, this.bounds);
      this.byKey.set(key, series);
    }
    return series;
  }

  /** Observes `value` (a histogram without labels; others observe through `series`). */
  observe(this: LeanHistogram<never>, value: number): void {
    this.byKey.get('')!.observe(value);
  }

  /** Drops every series (a histogram without labels starts again from zero). */
  reset(): void {
    this.byKey.clear();
    if (this.labelNames.length === 0) this.series({} as HistogramLabels<L>);
  }

  /** The samples in prom-client's shape and order: per series, cumulative buckets, then sum and count. */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const series of this.byKey.values()) {
      let cumulative = 0;
      series.counts.forEach((count, i) => {
        cumulative += count;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le }, sharedLabels: series.labels, value: cumulative });
      });
      values.push({ metricName: `${this.name}_sum`, labels: {}, sharedLabels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: {}, sharedLabels: series.labels, value: series.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  private keyOf(labels: HistogramLabels<L>): string {
    const { labelNames } = this;
    if (labelNames.length === 0) return '';
    if (labelNames.length === 1) return labels[labelNames[0]!];
    let key = labels[labelNames[0]!];
    for (let i = 1; i < labelNames.length; i++) key += `\u0000${labels[labelNames[i]!]}`;
    return key;
  }
}
