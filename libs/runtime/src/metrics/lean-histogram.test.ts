import { Histogram, Registry } from 'prom-client';
import { LeanHistogram } from './lean-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** A registry with a default label, as createMetricsRegistry makes them. */
function registryOf(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  return registry;
}

/** The sample lines of a registry's text, sorted, so that two exporters' orders of series compare equal. */
async function sampleLines(registry: Registry): Promise<string[]> {
  return (await registry.metrics())
    .split('\n')
    .filter((line) => line !== '')
    .sort();
}

describe('LeanHistogram', () => {
  it("prints what prom-client's Histogram prints for the same observations, labels and default labels", async () => {
    const lean = registryOf('broker');
    const reference = registryOf('broker');
    const config = { name: 'partq_test_seconds', help: 'A test histogram', buckets: BUCKETS, labelNames: ['method', 'code'] as const };
    const histogram = new LeanHistogram({ ...config, registry: lean });
    const prom = new Histogram({ ...config, labelNames: [...config.labelNames], registers: [reference] });
    const observations: [method: string, code: string, value: number][] = [
      ['Append', 'OK', 0.0004],
      ['Append', 'OK', 0.001], // on a bound: counted in that bucket, as `le` says
      ['Append', 'OK', 0.5],
      ['Append', 'OK', 7], // past the last bound: +Inf only
      ['Append', 'NOT_FOUND', 0.02],
      ['Fetch', 'OK', 0],
    ];
    for (const [method, code, value] of observations) {
      histogram.series({ method, code }).observe(value);
      prom.observe({ method, code }, value);
    }
    expect(await sampleLines(lean)).toEqual(await sampleLines(reference));
    expect(await lean.metrics()).toContain('partq_test_seconds_bucket{le="0.001",role="broker",method="Append",code="OK"} 2');
  });

  it('shows the zero buckets of a histogram without labels before its first observation, as prom-client does', async () => {
    const lean = registryOf('gateway');
    const reference = registryOf('gateway');
    const histogram = new LeanHistogram({ name: 'partq_test_records', help: 'Records', buckets: [1, 10], registry: lean });
    const prom = new Histogram({ name: 'partq_test_records', help: 'Records', buckets: [1, 10], registers: [reference] });
    expect(await sampleLines(lean)).toEqual(await sampleLines(reference));
    histogram.observe(3);
    prom.observe(3);
    expect(await sampleLines(lean)).toEqual(await sampleLines(reference));
  });

  it('binds a label set once: the series returned is the one observed, and reset() starts over', async () => {
    const registry = registryOf('replica');
    const histogram = new LeanHistogram({ name: 'partq_test_outcome_seconds', help: 'h', buckets: BUCKETS, labelNames: ['outcome'], registry });
    const messages = histogram.series({ outcome: 'messages' });
    expect(histogram.series({ outcome: 'messages' })).toBe(messages);
    messages.observe(0.05);
    messages.observe(0.05);
    expect(await registry.metrics()).toContain('partq_test_outcome_seconds_count{role="replica",outcome="messages"} 2');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('partq_test_outcome_seconds_count');
  });

  it('keeps label values apart even when joined they would read alike', () => {
    const histogram = new LeanHistogram({ name: 'partq_test_pairs', help: 'h', buckets: BUCKETS, labelNames: ['a', 'b'], registry: new Registry() });
    expect(histogram.series({ a: 'x', b: 'yz' })).not.toBe(histogram.series({ a: 'xy', b: 'z' }));
  });

  it('refuses a value that is not a finite number, and bounds that are not ascending', () => {
    const histogram = new LeanHistogram({ name: 'partq_test_refuses', help: 'h', buckets: BUCKETS, registry: new Registry() });
    expect(() => histogram.observe(Number.NaN)).toThrow(RangeError);
    expect(() => histogram.observe(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => new LeanHistogram({ name: 'partq_test_bad', help: 'h', buckets: [1, 1], registry: new Registry() })).toThrow(RangeError);
  });

  it('is one metric per name in its registry', () => {
    const registry = new Registry();
    const histogram = new LeanHistogram({ name: 'partq_test_once', help: 'h', buckets: BUCKETS, registry });
    expect(registry.getSingleMetric('partq_test_once')).toBe(histogram);
    expect(() => new LeanHistogram({ name: 'partq_test_once', help: 'h', buckets: BUCKETS, registry })).toThrow(/already been registered/);
  });
});
