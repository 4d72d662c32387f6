import type { Counter } from 'prom-client';
import { RateHistory, type RateHistoryOptions } from './rate-history.js';

export interface TrafficSamplerOptions {
  /** Messages acknowledged to producers, by topic (partq_gateway_produced_messages_total). */
  produced: Counter<'topic'>;
  /** Messages delivered to consumers, by topic (partq_gateway_consumed_messages_total). */
  consumed: Counter<'topic'>;
  /** Default 1 s. */
  sampleIntervalMs?: number;
  /** Default 5 s. */
  windowMs?: number;
  /** Default 60 intervals (a minute of sparkline at the default interval). */
  seriesLength?: number;
  now?: () => number;
}

/**
 * Produce and consume rates of this gateway, per topic. The gateway already counts every message it
 * acknowledges or delivers in its Prometheus counters; this samples them on a timer so the status
 * page can show messages/s over a sliding window and a minute of history.
 */
export class TrafficSampler {
  readonly produce: RateHistory;
  readonly consume: RateHistory;
  readonly sampleIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: TrafficSamplerOptions) {
    this.sampleIntervalMs = options.sampleIntervalMs ?? 1000;
    const history: RateHistoryOptions = {
      windowMs: options.windowMs ?? 5000,
      seriesLength: options.seriesLength ?? 60,
      sampleIntervalMs: this.sampleIntervalMs,
    };
    this.produce = new RateHistory(history);
    this.consume = new RateHistory(history);
    this.now = options.now ?? Date.now;
  }

  /** Takes a sample now and then every interval until `stop`. */
  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.sampleIntervalMs);
    // The sampler must never keep a stopping process alive.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  /** Reads both counters once; a sample still being taken is not started again. */
  sample(): Promise<void> {
    this.sampling ??= (async () => {
      try {
        const [produced, consumed] = await Promise.all([totalsByTopic(this.options.produced), totalsByTopic(this.options.consumed)]);
        const atMs = this.now();
        this.produce.record({ atMs, totals: produced });
        this.consume.record({ atMs, totals: consumed });
      } finally {
        this.sampling = undefined;
      }
    })();
    return this.sampling;
  }
}

/** The counter's current value per `topic` label. */
export async function totalsByTopic(counter: Counter<'topic'>): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  for (const { labels, value } of (await counter.get()).values) {
    if (labels.topic !== undefined) totals.set(String(labels.topic), value);
  }
  return totals;
}
