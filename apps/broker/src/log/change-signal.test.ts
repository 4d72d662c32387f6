import { settlesWithin } from '../../test/settles-within.js';
import { ChangeSignal } from './change-signal.js';


describe('ChangeSignal.until', () => {
  it('waits through the notifies where its condition does not hold, and resolves at the first where it does', async () => {
    const signal = new ChangeSignal();
    let pending = 0;
    let checks = 0;
    const wait = signal.until(
      () => {
        checks++;
        return pending >= 3;
      },
      60_000,
    );
    for (pending = 1; pending < 3; pending++) signal.notify();
    expect(await settlesWithin(wait, 20)).toBe(false);
    signal.notify(); // pending is 3 now
    expect(await settlesWithin(wait, 20)).toBe(true);
    signal.notify(); // no longer listening
    expect(checks).toBe(3);
  });

  it('resolves after its timeout, or when its signal aborts, and leaves no listener behind', async () => {
    const signal = new ChangeSignal();
    let checks = 0;
    const never = (): boolean => {
      checks++;
      return false;
    };
    expect(await settlesWithin(signal.until(never, 10), 50)).toBe(true);
    const abort = new AbortController();
    const aborted = signal.until(never, 60_000, abort.signal);
    abort.abort();
    expect(await settlesWithin(aborted, 20)).toBe(true);
    signal.notify();
    expect(checks).toBe(0);
    expect(await settlesWithin(signal.until(never, 60_000, abort.signal), 20)).toBe(true);
  });

  it('ends the wait when its condition throws, without the throw reaching the notifier', async () => {
    const signal = new ChangeSignal();
    const wait = signal.until(() => {
      throw new Error('the partition went away');
    }, 60_000);
    expect(() => signal.notify()).not.toThrow();
    expect(await settlesWithin(wait, 20)).toBe(true);
  });
});

describe('ChangeSignal listeners', () => {
  it('calls a listener at every notify until it is removed, also one that removes itself meanwhile', async () => {
    const signal = new ChangeSignal();
    const calls: string[] = [];
    const steady = (): void => void calls.push('steady');
    const once = (): void => {
      calls.push('once');
      signal.unlisten(once);
    };
    signal.listen(once);
    signal.listen(steady);
    const woken = signal.until(() => true, 10_000);
    signal.notify();
    signal.notify();
    await woken;
    signal.unlisten(steady);
    signal.notify();
    expect(calls).toEqual(['once', 'steady', 'steady']);
  });
});
