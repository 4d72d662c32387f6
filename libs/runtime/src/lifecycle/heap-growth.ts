import { setFlagsFromString } from 'node:v8';
import type { NumberOption } from '../config/spec.js';

/**
 * How far V8 lets a role's heap grow past what the last full GC kept, in per cent.
 *
 * Why: a role's live heap is small (~16 MB), so V8's own limit sits one young generation (16 MB)
 * above it, and its incremental marking starts again as soon as a full GC ends. Measured on a
 * broker under pipelined produce: a mark-compact every ~250 ms, no scavenge at all, and about
 * a third of its CPU in marking and sweeping. At 300 % (the heap may reach four times what the
 * last full GC kept), in alternated runs of the same load, a broker made 6 full GCs instead of
 * 17–23 and its CPU per 100 B message fell from 17.0–17.6 µs to 11.7–14.1 µs, for ~30–50 MB more
 * resident memory per role (docs/performance-log.md, eighth round).
 */
export const heapGrowthOption = {
  type: 'integer',
  env: 'PARTQ_HEAP_GROWTH_PERCENT',
  default: 300,
  min: 0,
  max: 1000,
  description: "How far the heap may grow past what the last full GC kept, in % (fewer full GCs for more memory; 0: V8's own heuristic)",
} as const satisfies NumberOption;

/** Sets V8's heap growing factor for this process (0 leaves V8's heuristic alone). Call once, at start. */
export function applyHeapGrowth(percent: number, setFlags: (flags: string) => void = setFlagsFromString): void {
  if (!Number.isSafeInteger(percent) || percent < 0) throw new RangeError(`heap growth must be a non-negative integer, got ${percent}`);
  if (percent > 0) setFlags(`--heap-growing-percent=${percent}`);
}
