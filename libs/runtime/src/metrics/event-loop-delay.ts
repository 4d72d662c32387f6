import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/**
 * The statistics of the event-loop delay histogram, each a gauge named as prom-client names it
 * (`<prefix>nodejs_eventloop_lag_<statistic>_seconds`), so dashboards keep their queries.
 */
const STATISTICS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const;
type Statistic = (typeof STATISTICS)[number];

function metricName(prefix: string, statistic: Statistic): string {
  return `${prefix}nodejs_eventloop_lag_${statistic}_seconds`;
}

export function eventLoopDelayMetricNames(prefix: string): string[] {
  return STATISTICS.map((statistic) => metricName(prefix, statistic));
}

/** A statistic in nanoseconds, as the histogram keeps it. */
function statisticOf(histogram: IntervalHistogram, statistic: Statistic): number {
  switch (statistic) {
    case 'min':
      return histogram.min;
    case 'max':
      return histogram.max;
    case 'mean':
      return histogram.mean;
    case 'stddev':
      return histogram.stddev;
    default:
      return histogram.percentile(Number(statistic.slice(1)));
  }
}

/**
 * Registers the event-loop delay gauges, sampled every `resolutionMs` and reset at each scrape.
 *
 * Node's histogram records the time between two of its timer's wake-ups, the sampling interval
 * included: an idle process sampled every 100 ms reports ~0.1 s at every percentile, which reads
 * as a loop 100 ms late. These gauges subtract the interval, so an idle loop reads ~0 and a loop
 * blocked for B ms reads between B − resolution and B. The spread (stddev) is left as it is.
 */
export function registerEventLoopDelay(registry: Registry, prefix: string, resolutionMs: number): void {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const valueOf = (statistic: Statistic): number => {
    const seconds = statisticOf(histogram, statistic) / 1e9;
    return statistic === 'stddev' ? seconds : Math.max(0, seconds - resolutionMs / 1000);
  };
  // One collect sets every gauge from the same samples, then starts the next scrape's window.
  const collectAll = (): void => {
    const sampled = histogram.count > 0;
    for (const [statistic, gauge] of gauges) gauge.set(sampled ? valueOf(statistic) : 0);
    histogram.reset();
  };
  const gauges = STATISTICS.map(
    (statistic, i) =>
      [
        statistic,
        new Gauge({
          name: metricName(prefix, statistic),
          help: `Event-loop delay beyond its ${resolutionMs} ms sampling interval since the last scrape, ${statistic}, in seconds.`,
          registers: [registry],
          ...(i === 0 ? { collect: collectAll } : {}),
        }),
      ] as const,
  );
}
