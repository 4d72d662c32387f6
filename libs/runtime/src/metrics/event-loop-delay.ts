import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/**
 * The statistics of the event-loop delay histogram, each a gauge named as prom-client names it
 * (`<prefix>nodejs_eventloop_lag_<statistic>_seconds`), so dashboards keep their queries.
 */
const STATISTICS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const;
type Statistic = (typeof STATISTICS)[number];

export function eventLoopDelayMetricNames(prefix: string): string[] {
  return STATISTICS.map((statistic) => `${prefix}nodejs_eventloop_lag_${statistic}_seconds`);
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
  const intervalSeconds = resolutionMs / 1000;
  const late = (nanoseconds: number): number => Math.max(0, nanoseconds / 1e9 - intervalSeconds);
  const read: Record<Statistic, () => number> = {
    min: () => late(histogram.min),
    max: () => late(histogram.max),
    mean: () => late(histogram.mean),
    stddev: () => histogram.stddev / 1e9,
    p50: () => late(histogram.percentile(50)),
    p90: () => late(histogram.percentile(90)),
    p99: () => late(histogram.percentile(99)),
  };

  const gauges = new Map<Statistic, Gauge>();
  // One collect sets every gauge from the same samples, then starts the next scrape's window.
  const collectAll = (): void => {
    const sampled = histogram.count > 0;
    for (const [statistic, gauge] of gauges) gauge.set(sampled ? read[statistic]() : 0);
    histogram.reset();
  };
  STATISTICS.forEach((statistic, i) => {
    gauges.set(
      statistic,
      new Gauge({
        name: eventLoopDelayMetricNames(prefix)[i]!,
        help: `Event-loop delay beyond its ${resolutionMs} ms sampling interval since the last scrape, ${statistic}, in seconds.`,
        registers: [registry],
        ...(i === 0 ? { collect: collectAll } : {}),
      }),
    );
  });
}
