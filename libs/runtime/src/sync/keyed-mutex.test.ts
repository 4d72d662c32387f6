import { KeyedMutex, Mutex } from './keyed-mutex.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  it('runs sections of one key one at a time, in call order', async () => {
    const mutex = new KeyedMutex<string>();
    const events: string[] = [];
    const section = (name: string) => async () => {
      events.push(`${name}:in`);
      await tick();
      events.push(`${name}:out`);
      return name;
    };
    const results = await Promise.all([mutex.run('a', section('1')), mutex.run('a', section('2')), mutex.run('a', section('3'))]);
    expect(results).toEqual(['1', '2', '3']);
    expect(events).toEqual(['1:in', '1:out', '2:in', '2:out', '3:in', '3:out']);
  });

  it('lets different keys run side by side', async () => {
    const mutex = new KeyedMutex<string>();
    const events: string[] = [];
    await Promise.all([
      mutex.run('a', async () => {
        events.push('a:in');
        await tick();
        events.push('a:out');
      }),
      mutex.run('b', async () => {
        events.push('b:in');
        await tick();
        events.push('b:out');
      }),
    ]);
    expect(events.slice(0, 2).sort()).toEqual(['a:in', 'b:in']);
  });

  it('releases the lock when a section throws', async () => {
    const mutex = new Mutex();
    await expect(mutex.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run(async () => 'next')).resolves.toBe('next');
  });
});
