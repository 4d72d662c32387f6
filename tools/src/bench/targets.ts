import { sizeLabel } from './bench-context.js';
import type { Measurement } from './measurement.js';

/** One goal of the "Fast" issue, judged from the measurements of the same run. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** undefined: not measured in this run, or informational (no goal to meet). */
  met: boolean | undefined;
  /** A figure shown for comparison, not a goal of the issue. */
  informational?: true;
}

export const PRODUCE_TARGET_MSGS_PER_S = 40_000;
export const PRODUCE_AIM_MSGS_PER_S = 100_000;
export const E2E_P99_TARGET_MS = 5;
export const REST_VS_BARE_TARGET = 0.4;
/** Broker RSS that counts as bounded while a gigabyte flows through. */
export const BROKER_RSS_BOUND_MB = 512;

const find = (ms: readonly Measurement[], name: string): Measurement | undefined => ms.find((m) => m.name === name);

export function checkTargets(measurements: readonly Measurement[], sizes: readonly number[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const size of sizes) {
    const label = sizeLabel(size);
    const produce = find(measurements, `produce.client.pipelined.${label}.acks-broker`);
    checks.push({
      target: `pipelined durable produce ${label} (npm client, acks=broker) >= ${PRODUCE_TARGET_MSGS_PER_S} msgs/s (aim ${PRODUCE_AIM_MSGS_PER_S})`,
      measured: produce ? `${produce.msgs_per_s} msgs/s` : 'not measured',
      met: produce ? produce.msgs_per_s >= PRODUCE_TARGET_MSGS_PER_S : undefined,
    });
    const consumes = measurements.filter((m) => m.kind === 'consume' && m.msg_bytes === size && m.errors === 0);
    const best = consumes.sort((a, b) => b.msgs_per_s - a.msgs_per_s)[0];
    checks.push({
      target: `consume ${label} >= produce ${label}`,
      measured: best && produce ? `${best.msgs_per_s} msgs/s (max_messages ${String(best['max_messages'])}) vs ${produce.msgs_per_s} msgs/s` : 'not measured',
      met: best && produce ? best.msgs_per_s >= produce.msgs_per_s : undefined,
    });
    // One line per concurrency: with few connections a durable request is bound by its round trip
    // (Append and fsync), with many by CPU, as the bare route is.
    const rests = measurements.filter((m) => m.kind === 'produce' && m.via === 'rest' && m.msg_bytes === size);
    if (rests.length === 0) checks.push({ target: `REST one message per request ${label} >= ${REST_VS_BARE_TARGET * 100}% of bare Fastify`, measured: 'not measured', met: undefined });
    for (const rest of rests) {
      const ratio = rest['vs_bare_fastify'];
      checks.push({
        target: `REST one message per request ${label}, ${String(rest['http_connections'])} connections >= ${REST_VS_BARE_TARGET * 100}% of bare Fastify`,
        measured: typeof ratio === 'number' ? `${(ratio * 100).toFixed(1)}% (${rest.msgs_per_s} vs ${String(rest['bare_fastify_msgs_per_s'])} req/s)` : 'not measured',
        met: typeof ratio === 'number' ? ratio >= REST_VS_BARE_TARGET && rest.errors === 0 : undefined,
      });
    }
  }
  const e2e = measurements.find((m) => m.kind === 'e2e-latency');
  checks.push({
    target: `end-to-end p99 < ${E2E_P99_TARGET_MS} ms at ${e2e ? String(e2e['target_rate']) : '2000'} msg/s`,
    measured: e2e && e2e.p99_ms !== null ? `p50 ${e2e.p50_ms} ms, p99 ${e2e.p99_ms} ms, max ${e2e.max_ms} ms` : 'not measured',
    met: e2e && e2e.p99_ms !== null ? e2e.p99_ms < E2E_P99_TARGET_MS && e2e.errors === 0 : undefined,
  });
  checks.push(hopFloorComparison(e2e, measurements.find((m) => m.via === 'hop-floor')));
  const flow = measurements.find((m) => m.kind === 'broker-rss' && m.name !== 'broker-rss.whole-run');
  const whole = find(measurements, 'broker-rss.whole-run');
  const rss = flow ?? whole;
  const peak = rss?.['broker_rss_mb_peak'];
  checks.push({
    target: `broker RSS bounded (< ${BROKER_RSS_BOUND_MB} MB while ~1 GB flows; --mem)`,
    measured:
      typeof peak === 'number'
        ? `peak ${peak} MB, last ${String(rss!['broker_rss_mb_last'])} MB after ${String(rss!['flowed_mb'] ?? rss!['produced_mb'])} MB flowed`
        : 'not measured',
    // Only the --mem run moves enough data to judge; the whole-run figure is shown for information.
    met: flow && typeof peak === 'number' ? peak < BROKER_RSS_BOUND_MB && flow.errors === 0 : undefined,
  });
  for (const size of sizes) checks.push(natsComparison(measurements, sizeLabel(size)));
  return checks;
}

/**
 * partq's acks=broker client produce rate over NATS JetStream's publish rate, mode by mode, from
 * the same run; with NATS's fsync policy beside it, since partq fsyncs before acknowledging.
 */
function natsComparison(measurements: readonly Measurement[], label: string): TargetCheck {
  let fsync: string | undefined;
  const ratios = (['pipelined', 'one-at-a-time'] as const).map((mode) => {
    const partq = find(measurements, `produce.client.${mode}.${label}.acks-broker`);
    const nats = find(measurements, `reference.nats-jetstream.${mode}.${label}`);
    if (typeof nats?.['fsync'] === 'string') fsync ??= nats['fsync'];
    const ratio =
      nats?.['skipped'] !== undefined
        ? 'NATS skipped'
        : partq && nats && partq.msgs_per_s > 0 && nats.msgs_per_s > 0
          ? (partq.msgs_per_s / nats.msgs_per_s).toFixed(2)
          : 'not measured';
    return `${mode} ${label} ${ratio}`;
  });
  return {
    target: 'partq vs NATS JetStream on this machine (partq acks=broker msgs/s / NATS msgs/s)',
    measured: `${ratios.join(', ')}${fsync === undefined ? '' : ` (NATS fsync: ${fsync})`}`,
    met: undefined,
    informational: true,
  };
}

/**
 * The end-to-end run beside its floor: the same hops, rate and size over plain TCP (hop-floor.ts),
 * so what partq's framework costs per hop on this machine shows in the same run.
 */
function hopFloorComparison(e2e: Measurement | undefined, floor: Measurement | undefined): TargetCheck {
  const describe = (m: Measurement | undefined, who: string): string => {
    if (m?.['skipped'] !== undefined) return `${who} skipped`;
    if (!m || m.p99_ms === null) return `${who} not measured`;
    const cpu = m.cpu_ms_per_msg === null ? '' : `, ${m.cpu_ms_per_msg} ms CPU/msg`;
    return `${who} p50 ${m.p50_ms} / p99 ${m.p99_ms} ms${cpu}`;
  };
  return {
    target: 'end-to-end vs the hop floor (the same hops over plain TCP: fsync, position commit, acks)',
    measured: `${describe(e2e, 'partq')}; ${describe(floor, 'floor')}`,
    met: undefined,
    informational: true,
  };
}
