import type { ClusterProcess } from './cpu-meter.js';
import { processRssBytes, procAvailable } from './proc-stat.js';

export interface RssFigures {
  /** Per process name: first, highest and last resident size seen, in bytes. */
  byProcess: Record<string, { first: number; peak: number; last: number }>;
  samples: number;
}

/** Samples the resident memory (VmRSS) of the cluster's processes of one role on an interval. */
export class RssSampler {
  private readonly figures: RssFigures = { byProcess: {}, samples: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly processes: () => readonly ClusterProcess[],
    private readonly role: string,
  ) {}

  start(intervalMs = 250): void {
    if (!procAvailable()) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): RssFigures {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this.figures;
  }

  private sample(): void {
    for (const p of this.processes()) {
      if (p.role !== this.role) continue;
      const rss = processRssBytes(p.pid);
      if (rss === undefined) continue;
      const seen = this.figures.byProcess[p.name];
      if (seen) {
        seen.peak = Math.max(seen.peak, rss);
        seen.last = rss;
      } else {
        this.figures.byProcess[p.name] = { first: rss, peak: rss, last: rss };
      }
    }
    this.figures.samples++;
  }
}

const MB = 1e6;

/** The figures as JSON-line fields: the highest peak and last RSS among the brokers, in MB. */
export function rssFields(figures: RssFigures): Record<string, unknown> {
  const entries = Object.entries(figures.byProcess);
  const round = (bytes: number): number => Math.round(bytes / MB);
  return {
    broker_rss_mb_peak: entries.length === 0 ? null : round(Math.max(...entries.map(([, f]) => f.peak))),
    broker_rss_mb_last: entries.length === 0 ? null : round(Math.max(...entries.map(([, f]) => f.last))),
    broker_rss_mb: Object.fromEntries(entries.map(([name, f]) => [name, { first: round(f.first), peak: round(f.peak), last: round(f.last) }])),
  };
}
