/**
 * Runs tasks one at a time per key (here: per consumer), in arrival order, while tasks of
 * different keys run concurrently. Two consumes of one consumer must never read the same
 * position at once, or both would return the same messages.
 */
export class KeyedMutex<K> {
  /** The tail of each key's queue; removed when the queue drains so idle keys cost nothing. */
  private readonly tails = new Map<K, Promise<void>>();

  async run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    try {
      await previous;
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with a task running or waiting. */
  get size(): number {
    return this.tails.size;
  }
}
