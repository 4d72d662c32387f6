import { sleep } from '@partq/runtime';
import type { ClusterProcess } from '../bench/cpu-meter.js';

/** One fault struck during a soak. */
export interface StruckFault {
  /** ms since the epoch */
  at: number;
  kind: 'stop' | 'kill';
  process: string;
  /** How long a stopped broker stayed stopped. */
  stoppedMs?: number;
}

export interface FaultScheduleOptions {
  durationMs: number;
  meanGapMs: number;
  brokerTimeoutMs: number;
  random: () => number;
  /** The cluster's processes with their current pids (the launcher restarts what dies). */
  processes: () => readonly ClusterProcess[];
  say: (message: string) => void;
}

/**
 * Strikes faults until `durationMs` has passed: six in ten stop a broker (SIGSTOP, then SIGCONT)
 * for 0.3 to 2.2 times the dead-broker timeout, so about half are declared dead while frozen and
 * come back as zombies; the rest SIGKILL any role, which the launcher restarts.
 */
export async function strikeFaults(options: FaultScheduleOptions): Promise<StruckFault[]> {
  const { random, say } = options;
  const struck: StruckFault[] = [];
  const end = Date.now() + options.durationMs;
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
  while (Date.now() < end) {
    await sleep(options.meanGapMs * (0.5 + random()));
    const processes = options.processes();
    if (random() < 0.6) {
      const broker = pick(processes.filter((p) => p.role === 'broker'));
      if (!broker) continue;
      const stoppedMs = Math.round(options.brokerTimeoutMs * (0.3 + random() * 1.9));
      say(`SIGSTOP ${broker.name} for ${stoppedMs} ms`);
      struck.push({ at: Date.now(), kind: 'stop', process: broker.name, stoppedMs });
      signal(broker.pid, 'SIGSTOP');
      try {
        await sleep(stoppedMs);
      } finally {
        signal(broker.pid, 'SIGCONT');
      }
    } else {
      const victim = pick(processes);
      if (!victim) continue;
      say(`SIGKILL ${victim.name}`);
      struck.push({ at: Date.now(), kind: 'kill', process: victim.name });
      signal(victim.pid, 'SIGKILL');
    }
  }
  return struck;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already (killed before, and being restarted): nothing to do.
  }
}
