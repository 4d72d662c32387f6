import { KeyedMutex } from './keyed-mutex.js';

/** A promise plus the function that settles it, to hold a task open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('KeyedMutex', () => {
  it('runs the tasks of one key one after another, in arrival order', async () => {
    const mutex = new KeyedMutex<number>();
    const events: string[] = [];
    const first = gate();
    const a = mutex.run(1, async () => {
      events.push('a start');
      await first.promise;
      events.push('a end');
    });
    const b = mutex.run(1, async () => {
      events.push('b');
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(events).toEqual(['a start']);
    first.open();
    await Promise.all([a, b]);
    expect(events).toEqual(['a start', 'a end', 'b']);
    expect(mutex.size).toBe(0);
  });

  it('lets other keys run meanwhile', async () => {
    const mutex = new KeyedMutex<number>();
    const held = gate();
    const slow = mutex.run(1, () => held.promise);
    await expect(mutex.run(2, async () => 'other')).resolves.toBe('other');
    held.open();
    await slow;
  });

  it('releases the key when a task fails', async () => {
    const mutex = new KeyedMutex<number>();
    await expect(mutex.run(1, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run(1, async () => 'next')).resolves.toBe('next');
    expect(mutex.size).toBe(0);
  });
});
