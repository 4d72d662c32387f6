/**
 * Serializes async critical sections per key (one consumer's consumes, one partition's
 * metadata change), and globally with a single key. Keys with nothing queued are forgotten.
 */
export class KeyedMutex<K = string> {
  private readonly tails = new Map<K, Promise<void>>();

  async run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** A single lock: KeyedMutex with one key. */
export class Mutex {
  private readonly inner = new KeyedMutex<0>();

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.inner.run(0, fn);
  }
}
