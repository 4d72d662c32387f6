import { createMetricsRegistry, EVENT_LOOP_SAMPLE_MS } from './registry.js';
import { rpcDurationHistogram } from './rpc-duration.js';

describe('createMetricsRegistry', () => {
  it('collects process metrics with the partq_ prefix and the role label', async () => {
    const registry = createMetricsRegistry('gateway');
    const text = await registry.metrics();
    expect(text).toMatch(/^partq_process_resident_memory_bytes\{role="gateway"\} \d+/m);
    expect(text).toMatch(/^partq_nodejs_heap_size_used_bytes\{role="gateway"\} \d+/m);
  });

  it('samples the event-loop delay every EVENT_LOOP_SAMPLE_MS: a stall that long shows in the lag metrics', async () => {
    const registry = createMetricsRegistry('broker');
    await registry.metrics(); // resets the histogram
    const stallMs = 2 * EVENT_LOOP_SAMPLE_MS;
    await new Promise((resolve) => setTimeout(resolve, EVENT_LOOP_SAMPLE_MS));
    const until = Date.now() + stallMs;
    while (Date.now() < until); // blocks the event loop, as a long synchronous task would
    await new Promise((resolve) => setTimeout(resolve, EVENT_LOOP_SAMPLE_MS));
    const text = await registry.metrics();
    const max = Number(/^partq_nodejs_eventloop_lag_max_seconds\{role="broker"\} (\S+)$/m.exec(text)?.[1]);
    // A stall of B ms reads between B less one sampling interval and B; the sampling timer's own
    // jitter (it fired 0.25 ms early once on a loaded CI run) gets a few ms of slack.
    expect(max).toBeGreaterThanOrEqual((stallMs - EVENT_LOOP_SAMPLE_MS - 5) / 1000);
  });

  it('reports an idle event loop as on time, not as late as its sampling interval', async () => {
    const registry = createMetricsRegistry('replica');
    await registry.metrics(); // resets the histogram
    await new Promise((resolve) => setTimeout(resolve, 5 * EVENT_LOOP_SAMPLE_MS));
    const text = await registry.metrics();
    const value = (statistic: string): number =>
      Number(new RegExp(`^partq_nodejs_eventloop_lag_${statistic}_seconds\\{role="replica"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    // Node's histogram alone says ~0.1 s at every percentile here: the interval between its samples.
    expect(value('p50')).toBeGreaterThanOrEqual(0);
    expect(value('p50')).toBeLessThan(EVENT_LOOP_SAMPLE_MS / 2 / 1000);
    expect(value('min')).toBeLessThan(EVENT_LOOP_SAMPLE_MS / 2 / 1000);
    // Each statistic is exported once, by partq's gauges rather than prom-client's.
    expect(text.match(/^partq_nodejs_eventloop_lag_p50_seconds\{/gm)).toHaveLength(1);
    expect(text).toMatch(/^partq_nodejs_eventloop_lag_seconds\{role="replica"\} \S+$/m);
  });

  it('keeps registries apart', async () => {
    const a = createMetricsRegistry('broker');
    const b = createMetricsRegistry('replica');
    rpcDurationHistogram(a).series({ service: 's', method: 'm', code: 'OK' }).observe(0.01);
    expect(await a.metrics()).toContain('partq_rpc_duration_seconds_count{role="broker",service="s",method="m",code="OK"} 1');
    expect(await b.metrics()).not.toContain('partq_rpc_duration_seconds');
  });
});

describe('rpcDurationHistogram', () => {
  it('is created once per registry', () => {
    const registry = createMetricsRegistry('manager');
    expect(rpcDurationHistogram(registry)).toBe(rpcDurationHistogram(registry));
  });
});
