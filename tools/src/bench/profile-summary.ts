import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 .cpuprofile this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

interface Share {
  label: string;
  ms: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled time that was not idle, in ms. */
  busyMs: number;
  byPackage: Share[];
  byFunction: Share[];
}

/** Where a function lives: an npm package, a partq app or lib, Node itself, or V8 (no URL). */
function packageOf(url: string): string {
  if (url === '') return '(v8: gc, native)';
  const npm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (npm) return npm[1]!;
  const own = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return 'node core';
  return url;
}

function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(apps|libs)\//, '$1/');
}

/**
 * Nodes under a call into `node:inspector`: the profiler's own start and stop. The first samples of
 * a profile started through the inspector sit there and carry the time from the start to the first
 * real sample (~280 ms in a broker's 12 s window), which showed up as a native `dispatch` at
 * 8–19 % of the role's busy time.
 */
function profilerOwnNodes(byId: ReadonlyMap<number, CpuProfile['nodes'][number]>): Set<number> {
  const own = new Set<number>();
  const mark = (id: number): void => {
    own.add(id);
    for (const child of byId.get(id)?.children ?? []) mark(child);
  };
  for (const node of byId.values()) if (node.callFrame.url === 'node:inspector' && !own.has(node.id)) mark(node.id);
  return own;
}

/** Self time by package and by function, idle time and the profiler's own calls left out. */
export function summariseProfile(file: string, profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const profilerOwn = profilerOwnNodes(byId);
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfTime) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(root)' || profilerOwn.has(id)) continue;
    busyUs += us;
    const pkg = packageOf(frame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number): Share[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([label, us]) => ({ label, ms: us / 1000 }));
  return { file, busyMs: busyUs / 1000, byPackage: top(packages, 12), byFunction: top(functions, 25) };
}

/** Summaries of every .cpuprofile in `dir`, as text for a human. */
export function summariseProfiles(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  const out: string[] = [];
  for (const file of files) {
    const summary = summariseProfile(file, JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
    const pct = (ms: number): string => `${((ms / Math.max(summary.busyMs, 1e-9)) * 100).toFixed(1).padStart(5)}%`;
    out.push(`=== ${file}: ${Math.round(summary.busyMs)} ms busy (self time, idle excluded)`, '  by package:');
    for (const s of summary.byPackage) out.push(`    ${pct(s.ms)}  ${s.label}`);
    out.push('  by function:');
    for (const s of summary.byFunction) out.push(`    ${pct(s.ms)}  ${s.label}`);
    out.push('');
  }
  return out.length === 0 ? `no .cpuprofile files in ${dir}\n` : `${out.join('\n')}\n`;
}
