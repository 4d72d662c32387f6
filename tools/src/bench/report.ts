import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLatencySvg } from './latency-svg.js';
import type { MeasuredResult, Measurement } from './measurement.js';
import type { TargetCheck } from './targets.js';

export interface RunReport {
  startedAt: string;
  target: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  options: Record<string, unknown>;
  measurements: Measurement[];
  targets: TargetCheck[];
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

const show = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined ? '-' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The table printed at the end of a run (plain text, fixed width). */
export function summaryTable(report: RunReport): string {
  const rows = report.measurements.map((m) => [
    m.name,
    show(m.msgs_per_s),
    show(m.mb_per_s, 2),
    show(m.p50_ms, 2),
    show(m.p99_ms, 2),
    show(m.max_ms, 1),
    show(m.cpu_ms_per_msg, 4),
    m.kind === 'broker-rss'
      ? `RSS peak ${show(m['broker_rss_mb_peak'] as number | null)} MB`
      : m.kind === 'idle'
        ? `cluster CPU ${show(m['cluster_cpu_ms_per_s'] as number | null)} ms/s`
        : m['skipped'] !== undefined
          ? 'skipped'
          : String(m.errors),
  ]);
  const header = ['measurement', 'msgs/s', 'MB/s', 'p50 ms', 'p99 ms', 'max ms', 'cpu ms/msg', 'errors'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i]!, i > 0 && i < 7)).join('  ').trimEnd();
  const out = [
    `partq benchmark — ${report.target}`,
    `${report.machine.cpus} CPU(s) ${report.machine.cpuModel}, Node ${report.machine.node}`,
    '',
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    'Targets (ratios from this run):',
    ...report.targets.map((t) => `  [${t.met === undefined ? ' -- ' : t.met ? ' ok ' : 'MISS'}] ${t.target}: ${t.measured}`),
  ];
  return `${out.join('\n')}\n`;
}

/** Writes results.json, results.jsonl, summary.txt and latency.svg into `dir`; returns the paths. */
export function writeReport(dir: string, report: RunReport, results: readonly MeasuredResult[]): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    json: join(dir, 'results.json'),
    jsonl: join(dir, 'results.jsonl'),
    summary: join(dir, 'summary.txt'),
    svg: join(dir, 'latency.svg'),
  };
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files.jsonl, report.measurements.map((m) => `${JSON.stringify(m)}\n`).join(''));
  writeFileSync(files.summary, summaryTable(report));
  // The end-to-end panel first: it is the one the latency target is about.
  const withLatency = results
    .filter((r) => r.histogram && r.measurement.p50_ms !== null)
    .sort((a, b) => Number(b.measurement.kind === 'e2e-latency') - Number(a.measurement.kind === 'e2e-latency'));
  writeFileSync(
    files.svg,
    renderLatencySvg(
      withLatency.map((r) => ({
        title: r.measurement.name,
        histogram: r.histogram!,
        p50Ms: r.measurement.p50_ms!,
        p99Ms: r.measurement.p99_ms!,
        maxMs: r.measurement.max_ms!,
      })),
    ),
  );
  return Object.values(files);
}
