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
    expect(max).toBeGreaterThanOrEqual((stallMs - EVENT_LOOP_SAMPLE_MS) / 1000);
  });

  it('keeps registries apart', async () => {
    const a = createMetricsRegistry('broker');
    const b = createMetricsRegistry('replica');
    rpcDurationHistogram(a).observe({ service: 's', method: 'm', code: 'OK' }, 0.01);
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
