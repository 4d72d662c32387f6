/**
 * A FATAL that PostgreSQL answers a client connecting while it starts, recovers or stops: the
 * client retries, so it is no failure of the server's own.
 */
export function isRefusedWhileStarting(line: string): boolean {
  return /not yet accepting connections|the database system is (?:starting up|shutting down)/.test(line);
}

/** How often a failure already reported is said again while restarts keep failing the same way. */
const REPEAT_AFTER_MS = 30_000;

/**
 * What to say about a failed restart of the embedded PostgreSQL, which is tried again every two
 * seconds for as long as it fails. PostgreSQL's start-up log is a dozen lines; said on every try,
 * an outage of some minutes (its disk full) buried the terminal. The whole log is said once, then
 * only the line that names the cause, every 30 s, until the cause changes.
 */
export class RestartFailures {
  private last: { kind: string; saidAtMs: number } | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The message for this failure, or undefined when it repeats the last one too soon. */
  report(error: unknown): string | undefined {
    const text = String(error);
    const cause = this.causeOf(text);
    // Each try names its own process ids and temporary files: the same cause with other numbers.
    const kind = cause.replace(/\d+/g, '#');
    const now = this.now();
    if (this.last?.kind !== kind) {
      this.last = { kind, saidAtMs: now };
      return `embedded PostgreSQL failed to restart (${text}); trying again`;
    }
    if (now - this.last.saidAtMs < REPEAT_AFTER_MS) return undefined;
    this.last.saidAtMs = now;
    return `embedded PostgreSQL still cannot start: ${cause}; trying again every 2 s`;
  }

  /** The last FATAL or PANIC of the server's own (not one answered to a connection during recovery), with a hint for a full disk. */
  private causeOf(text: string): string {
    const fatal = [...text.matchAll(/\b(?:FATAL|PANIC):\s+(.+)$/gm)]
      .map((match) => match[1]!.trim())
      .filter((line) => !isRefusedWhileStarting(line))
      .pop();
    const cause = fatal ?? text.split('\n')[0]!.slice(0, 300);
    return /No space left on device/.test(cause) ? `${cause} (its disk is full: free some space under ${this.dataDir})` : cause;
  }
}
