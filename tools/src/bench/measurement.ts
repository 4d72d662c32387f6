import { loadavg } from 'node:os';
import type { CpuUsage } from './cpu-meter.js';
import type { LatencyHistogram, LatencyRecorder } from './latency-recorder.js';

export type MeasurementKind = 'produce' | 'consume' | 'e2e-latency' | 'http-baseline' | 'broker-rss' | 'idle' | 'reference' | 'warm-up' | 'moves';

/** One line of the benchmark's output (snake_case: it is read by scripts and spreadsheets). */
export interface Measurement {
  name: string;
  kind: MeasurementKind;
  /** How the messages travelled: the npm clients, REST, a bare Fastify route, another broker or the hop floor (references). */
  via?: 'client' | 'rest' | 'bare-fastify' | 'nats-jetstream' | 'hop-floor';
  mode?: 'one-at-a-time' | 'pipelined' | 'fixed-rate' | 'concurrent-requests' | 'backlog';
  msg_bytes?: number;
  acks?: 'broker' | 'all';
  /** Messages (or requests) completed within the measurement. */
  msgs: number;
  /** Payload bytes of those messages. */
  bytes: number;
  seconds: number;
  msgs_per_s: number;
  /** Payload megabytes (10^6 bytes) per second. */
  mb_per_s: number;
  /** Per-message latency (send to acknowledgement, or send to receipt for e2e); null when not measured. */
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  /**
   * CPU of every cluster process (roles, and the embedded PostgreSQL) per message, or of the
   * reference broker's server for a reference line; null when not visible.
   */
  cpu_ms_per_msg: number | null;
  /** That CPU by role, in ms over the measurement. */
  cpu_ms: Record<string, number> | null;
  /** CPU of the benchmark process itself (clients, load generator) per message. */
  client_cpu_ms_per_msg: number;
  errors: number;
  first_error?: string;
  /** 1-minute load average at the end: other work on the machine skews every number. */
  load_avg_1m: number;
  /** Measurement-specific figures (REST vs bare Fastify ratio, RSS, targets). */
  [extra: string]: unknown;
}

export interface MeasurementInput {
  name: string;
  kind: MeasurementKind;
  via?: Measurement['via'];
  mode?: Measurement['mode'];
  msgBytes?: number;
  acks?: Measurement['acks'];
  msgs: number;
  seconds: number;
  latency?: LatencyRecorder;
  cpu?: CpuUsage;
  /** Whether per-role CPU could be read (a cluster we started, or a --cluster-file). */
  cpuVisible: boolean;
  errors?: number;
  firstError?: string;
  extra?: Record<string, unknown>;
}

/** A measurement plus what the report needs but the JSON line does not carry. */
export interface MeasuredResult {
  measurement: Measurement;
  histogram?: LatencyHistogram;
}

const round = (value: number, digits: number): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

export function buildMeasurement(input: MeasurementInput): MeasuredResult {
  const seconds = Math.max(input.seconds, 1e-6);
  const bytes = input.msgs * (input.msgBytes ?? 0);
  const latency = input.latency && input.latency.count > 0 ? input.latency.summary() : undefined;
  const perMessage = (ms: number): number => (input.msgs > 0 ? round(ms / input.msgs, 4) : 0);
  const cpuByRole =
    input.cpu && input.cpuVisible
      ? Object.fromEntries(Object.entries(input.cpu.byRole).map(([role, ms]) => [role, Math.round(ms)]))
      : null;
  const measurement: Measurement = {
    name: input.name,
    kind: input.kind,
    ...(input.via === undefined ? {} : { via: input.via }),
    ...(input.mode === undefined ? {} : { mode: input.mode }),
    ...(input.msgBytes === undefined ? {} : { msg_bytes: input.msgBytes }),
    ...(input.acks === undefined ? {} : { acks: input.acks }),
    msgs: input.msgs,
    bytes,
    seconds: round(seconds, 3),
    msgs_per_s: Math.round(input.msgs / seconds),
    mb_per_s: round(bytes / seconds / 1e6, 2),
    p50_ms: latency ? round(latency.p50Ms, 3) : null,
    p99_ms: latency ? round(latency.p99Ms, 3) : null,
    max_ms: latency ? round(latency.maxMs, 3) : null,
    cpu_ms_per_msg: input.cpu && input.cpuVisible && input.msgs > 0 ? perMessage(input.cpu.clusterMs) : null,
    cpu_ms: cpuByRole,
    client_cpu_ms_per_msg: input.cpu ? perMessage(input.cpu.clientMs) : 0,
    errors: input.errors ?? 0,
    ...(input.firstError === undefined ? {} : { first_error: input.firstError }),
    load_avg_1m: round(loadavg()[0] ?? 0, 2),
    ...input.extra,
  };
  return { measurement, ...(input.latency && input.latency.count > 0 ? { histogram: input.latency.histogram() } : {}) };
}
