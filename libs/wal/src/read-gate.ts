/**
 * Lets any number of reads run together, and gives a maintenance operation (trim, truncate, reset, close)
 * the files to itself: it waits for running reads to finish and holds new ones back until it is done.
 * Appends need no gate: they only write past the durable end, which reads never look beyond.
 */
export class ReadGate {
  private readers = 0;
  private closedUntil: Promise<void> | undefined;
  private whenDrained: (() => void) | undefined;

  async enterRead(): Promise<void> {
    while (this.closedUntil) await this.closedUntil;
    this.readers++;
  }

  exitRead(): void {
    this.readers--;
    if (this.readers === 0 && this.whenDrained) {
      const drained = this.whenDrained;
      this.whenDrained = undefined;
      drained();
    }
  }

  /** Runs `work` with no read in progress. Callers run one exclusive operation at a time. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    let reopen!: () => void;
    this.closedUntil = new Promise<void>((resolve) => (reopen = resolve));
    try {
      if (this.readers > 0) await new Promise<void>((resolve) => (this.whenDrained = resolve));
      return await work();
    } finally {
      this.closedUntil = undefined;
      reopen();
    }
  }
}
