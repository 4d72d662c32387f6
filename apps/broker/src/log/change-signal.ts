/**
 * Wakes long-polls: `next()` resolves at the next `notify()`, after `timeoutMs`, or when `signal` aborts,
 * whichever comes first. Callers re-check their condition after every wake-up.
 */
export class ChangeSignal {
  private waiters = new Set<() => void>();

  notify(): void {
    const woken = this.waiters;
    this.waiters = new Set();
    for (const wake of woken) wake();
  }

  next(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted || timeoutMs <= 0) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}
