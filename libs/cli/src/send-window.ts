/**
 * Bounds how many sends are unsettled at once, so `partq produce` reads its input only as fast as
 * the cluster takes it, while the producer still batches. Counts acknowledgements and keeps the
 * first failure: after it, add() and drain() throw it.
 */
export class SendWindow {
  private pending = 0;
  private acked = 0;
  private failed: { error: unknown } | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Messages acknowledged so far. */
  get acknowledged(): number {
    return this.acked;
  }

  /** Tracks `send`; waits while `limit` sends are unsettled. Throws the first failure seen. */
  async add(send: Promise<unknown>): Promise<void> {
    this.throwIfFailed();
    this.pending++;
    send.then(
      () => {
        this.acked++;
      },
      (error: unknown) => {
        this.failed ??= { error };
      },
    ).finally(() => {
      this.pending--;
      for (const wake of this.waiters.splice(0)) wake();
    });
    while (this.pending >= this.limit && !this.failed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.throwIfFailed();
  }

  /** Waits for every tracked send to settle; throws the first failure seen. */
  async drain(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failed) throw this.failed.error;
  }
}
