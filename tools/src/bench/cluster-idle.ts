import { withCpu, type BenchContext } from './bench-context.js';
import { buildMeasurement, type MeasuredResult } from './measurement.js';

export const CLUSTER_IDLE_NAME = 'cluster.idle';

/**
 * What the cluster spends with no traffic at all (heartbeats, metadata, sync long-polls,
 * retention): the floor under every per-message CPU figure, and most of it for the slow runs
 * (one message at a time) where few messages share it.
 */
export async function measureClusterIdle(context: BenchContext): Promise<MeasuredResult> {
  const durationMs = Math.min(context.options.durationMs, 3000);
  const started = performance.now();
  const { cpu } = await withCpu(context, () => new Promise<void>((resolve) => setTimeout(resolve, durationMs)));
  const seconds = (performance.now() - started) / 1000;
  const perSecond = context.cpuVisible
    ? Object.fromEntries(Object.entries(cpu.byRole).map(([role, ms]) => [role, Math.round(ms / seconds)]))
    : null;
  return buildMeasurement({
    name: CLUSTER_IDLE_NAME,
    kind: 'idle',
    msgs: 0,
    seconds,
    cpu,
    cpuVisible: context.cpuVisible,
    extra: {
      cluster_cpu_ms_per_s: context.cpuVisible ? Math.round(cpu.clusterMs / seconds) : null,
      cpu_ms_per_s: perSecond,
    },
  });
}
