import { createMetricsRegistry } from './registry.js';
import { rpcDurationHistogram } from './rpc-duration.js';

describe('createMetricsRegistry', () => {
  it('collects process metrics with the partq_ prefix and the role label', async () => {
    const registry = createMetricsRegistry('gateway');
    const text = await registry.metrics();
    expect(text).toMatch(/^partq_process_resident_memory_bytes\{role="gateway"\} \d+/m);
    expect(text).toMatch(/^partq_nodejs_heap_size_used_bytes\{role="gateway"\} \d+/m);
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
