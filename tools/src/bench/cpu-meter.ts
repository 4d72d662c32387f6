import { descendantsOf, listProcesses, processCpuMs, procAvailable } from './proc-stat.js';

/** A process of the cluster under test, e.g. { role: 'broker', name: 'broker-2', pid: 4242 }. */
export interface ClusterProcess {
  role: string;
  name: string;
  pid: number;
}

export interface CpuSnapshot {
  /** CPU ms so far by pid, for the cluster's roles and its PostgreSQL processes. */
  readonly byPid: ReadonlyMap<number, { role: string; ms: number }>;
  /** This process (the load generator and clients). */
  readonly clientMs: number;
}

/** CPU used between two snapshots. */
export interface CpuUsage {
  /** Every cluster process together (roles plus PostgreSQL when it is ours to see). */
  clusterMs: number;
  /** Summed by role: manager, broker (all brokers), replica, gateway, postgres. */
  byRole: Record<string, number>;
  /** The benchmark process itself: load generator, producer and consumer clients. */
  clientMs: number;
}

/**
 * Reads the CPU time of every cluster process from /proc (utime + stime), so a measurement can
 * say how much CPU the whole cluster spent per message. PostgreSQL counts when its processes
 * descend from the process that launched the roles (the embedded one); an external server's
 * CPU is not visible and is left out.
 */
export class CpuMeter {
  readonly available = procAvailable();

  constructor(
    private readonly processes: () => readonly ClusterProcess[],
    /** Parent of the embedded PostgreSQL's postmaster (the launcher of the cluster), if known. */
    private readonly postgresAncestor: number | undefined,
  ) {}

  snapshot(): CpuSnapshot {
    const clientUsage = process.cpuUsage();
    const clientMs = (clientUsage.user + clientUsage.system) / 1000;
    const byPid = new Map<number, { role: string; ms: number }>();
    if (!this.available) return { byPid, clientMs };
    for (const p of this.processes()) {
      const ms = processCpuMs(p.pid);
      if (ms !== undefined) byPid.set(p.pid, { role: p.role, ms });
    }
    for (const pid of this.postgresPids()) {
      const ms = processCpuMs(pid);
      if (ms !== undefined) byPid.set(pid, { role: 'postgres', ms });
    }
    return { byPid, clientMs };
  }

  /** CPU used from `before` to `after`; processes that appeared meanwhile count from zero. */
  static between(before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
    const byRole: Record<string, number> = {};
    let clusterMs = 0;
    for (const [pid, now] of after.byPid) {
      const used = Math.max(0, now.ms - (before.byPid.get(pid)?.ms ?? 0));
      byRole[now.role] = (byRole[now.role] ?? 0) + used;
      clusterMs += used;
    }
    return { clusterMs, byRole, clientMs: Math.max(0, after.clientMs - before.clientMs) };
  }

  private postgresPids(): number[] {
    if (this.postgresAncestor === undefined) return [];
    const all = listProcesses();
    const below = new Set(descendantsOf(this.postgresAncestor, all));
    return all.filter((p) => below.has(p.pid) && p.comm.startsWith('postgres')).map((p) => p.pid);
  }
}
