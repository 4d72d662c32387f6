/**
 * How long this process was away between two runs of a periodic check: stopped (SIGSTOP, a paused
 * VM) or blocked. Silence of a peer counts only while this process was there to hear it; a check
 * that runs late by more than one period credits peers the time it was away.
 */
export class AwayTime {
  private lastCheckAt: number;

  constructor(
    private readonly periodMs: number,
    now = Date.now(),
  ) {
    this.lastCheckAt = now;
  }

  /** Called at every check: the time this process was away since the previous one (0 when on time). */
  sinceLastCheck(now = Date.now()): number {
    const away = now - this.lastCheckAt - this.periodMs;
    this.lastCheckAt = now;
    return away > this.periodMs ? away : 0;
  }
}
