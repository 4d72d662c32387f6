/**
 * Wakes long-polls: `until()` resolves at the first `notify()` where its condition holds, after
 * `timeoutMs`, or when `signal` aborts, whichever comes first. A listener (`listen`) is called at
 * every `notify()` until it is removed: for a watcher woken many times a second, which a promise, a
 * timer and an abort listener per wake-up would cost more than the wake-up's own work.
 *
 * `notify(subject)` says what changed (a partition), so that a watcher looks at that one only: an
 * append then costs a check of its own partition, not one per partition the broker owns.
 * `notify()` without a subject says anything may have changed (shutdown, a new assignment).
 */
export class ChangeSignal<T = unknown> {
  private readonly listeners = new Set<(subject: T | undefined) => void>();

  notify(subject?: T): void {
    // A listener may remove itself (or another) while this runs; a Set skips what was deleted.
    for (const listener of this.listeners) listener(subject);
  }

  /** Calls `listener` synchronously at every `notify()` from now on, until `unlisten`. */
  listen(listener: (subject: T | undefined) => void): void {
    this.listeners.add(listener);
  }

  unlisten(listener: (subject: T | undefined) => void): void {
    this.listeners.delete(listener);
  }

  /**
   * Resolves at the first `notify()` where `condition(subject)` holds (the caller checks it before
   * waiting). The condition runs inside `notify()`, in the writer's call: one that throws ends the
   * wait, and its caller meets the error when it checks again. One timer and one abort listener
   * serve the whole wait: the manager's GetUpdates waits through many Appends until enough records
   * are pending, and re-arming at each of them showed in a broker's profile (timers and abort
   * listeners on every Append; docs/performance-log.md, round 37).
   */
  until(condition: (subject: T | undefined) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted || timeoutMs <= 0) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.listeners.delete(check);
        resolve();
      };
      const check = (subject: T | undefined): void => {
        let holds: boolean;
        try {
          holds = condition(subject);
        } catch {
          holds = true;
        }
        if (holds) done();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.listeners.add(check);
    });
  }
}
