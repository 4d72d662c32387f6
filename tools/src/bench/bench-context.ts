import type { BenchTarget } from './bench-target.js';
import { CpuMeter, type CpuUsage } from './cpu-meter.js';
import type { BenchOptions } from './options.js';

/** What every measurement gets: the target, the settings, the CPU meter, and naming. */
export interface BenchContext {
  readonly options: BenchOptions;
  readonly target: BenchTarget;
  readonly cpu: CpuMeter;
  /** Whether cluster CPU can be read (a cluster we started, or --cluster-file). */
  readonly cpuVisible: boolean;
  /** Progress for humans, on stderr. */
  say(message: string): void;
  /** A topic name of its own for one measurement (names are unique per run). */
  topic(label: string): string;
  /** Payload bytes produced so far in this run (for the broker memory figure). */
  producedBytes: number;
}

/** Runs `work` between two CPU snapshots. */
export async function withCpu<T>(context: BenchContext, work: () => Promise<T>): Promise<{ result: T; cpu: CpuUsage }> {
  const before = context.cpu.snapshot();
  const result = await work();
  return { result, cpu: CpuMeter.between(before, context.cpu.snapshot()) };
}

/** A message of `size` bytes (printable, so the REST runs can send the same thing as text). */
export function payloadOf(size: number): Buffer {
  return Buffer.alloc(size, 'x');
}

/** "100B", "1KiB", "1MiB": sizes as the measurement names spell them. */
export function sizeLabel(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
