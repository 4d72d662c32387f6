import { IdleBackoff } from './idle-backoff.js';

describe('IdleBackoff', () => {
  it('doubles from a short first wait up to the poll interval, and starts over after a reset', () => {
    const idle = new IdleBackoff(100);
    expect([idle.next(), idle.next(), idle.next(), idle.next(), idle.next(), idle.next()]).toEqual([10, 20, 40, 80, 100, 100]);
    idle.reset();
    expect(idle.next()).toBe(10);
  });
});
