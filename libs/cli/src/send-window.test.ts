import { SendWindow } from './send-window.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SendWindow', () => {
  it('lets at most `limit` sends be unsettled and counts acknowledgements', async () => {
    const window = new SendWindow(2);
    const sends = [deferred(), deferred()];
    await window.add(sends[0]!.promise);
    let added = false;
    const adding = window.add(sends[1]!.promise).then(() => (added = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(added).toBe(false); // two unsettled: the caller waits before reading more
    sends[0]!.resolve();
    await adding;
    expect(window.acknowledged).toBe(1);
    sends[1]!.resolve();
    await window.drain();
    expect(window.acknowledged).toBe(2);
  });

  it('throws the first failure from add() and drain()', async () => {
    const window = new SendWindow(10);
    const failing = deferred();
    await window.add(failing.promise);
    failing.reject(new Error('refused'));
    await expect(window.drain()).rejects.toThrow('refused');
    await expect(window.add(Promise.resolve())).rejects.toThrow('refused');
  });
});
