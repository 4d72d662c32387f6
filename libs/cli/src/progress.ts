/**
 * A count on stderr once a second while a long run goes on ("produced 120000 messages, 41000/s"),
 * so short runs print nothing but their summary.
 */
export class Progress {
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stderr: NodeJS.WritableStream,
    private readonly describe: (count: number, perSecond: number) => string,
    private readonly count: () => number,
    intervalMs = 1000,
  ) {
    this.timer = setInterval(() => this.report(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private report(): void {
    const seconds = (Date.now() - this.started) / 1000;
    const count = this.count();
    this.stderr.write(`${this.describe(count, Math.round(count / Math.max(seconds, 0.001)))}\n`);
  }
}
