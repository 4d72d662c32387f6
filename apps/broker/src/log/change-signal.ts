/**
 * Wakes long-polls: `next()` resolves at the next `notify()`, after `timeoutMs`, or when `signal` aborts,
 * whichever comes first. Callers re-check their condition after every wake-up. A listener (`listen`)
 * is called at every `notify()` until it is removed: for a watcher woken many times a second, which
 * a promise, a timer and an abort listener per wake-up would cost more than the wake-up's own work.
 */
export class ChangeSignal {
  private waiters = new Set<() => void>();
  private readonly listeners = new Set<() => void>();

  notify(): void {
    // A listener may remove itself (or another) while this runs; a Set skips what was deleted.
    for (const listener of this.listeners) listener();
    if (this.waiters.size === 0) return;
    const woken = this.waiters;
    this.waiters = new Set();
    for (const wake of woken) wake();
  }

  /** Calls `listener` synchronously at every `notify()` from now on, until `unlisten`. */
  listen(listener: () => void): void {
    this.listeners.add(listener);
  }

  unlisten(listener: () => void): void {
    this.listeners.delete(listener);
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
