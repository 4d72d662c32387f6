import { SendEpochs } from './send-epochs.js';

/** Whether the promise has settled after the microtasks queued so far ran. */
async function isDone(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('SendEpochs', () => {
  test('whenSettled resolves at once with nothing in flight', async () => {
    expect(await isDone(new SendEpochs().whenSettled())).toBe(true);
  });

  test('waits for the sends begun before it, not for those begun while it waits', async () => {
    const epochs = new SendEpochs();
    const a = epochs.begin();
    const b = epochs.begin();
    const flushed = epochs.whenSettled();
    const later = epochs.begin();
    epochs.settled(a);
    expect(await isDone(flushed)).toBe(false);
    epochs.settled(b);
    expect(await isDone(flushed)).toBe(true);
    // The later send still counts for the next flush.
    const next = epochs.whenSettled();
    expect(await isDone(next)).toBe(false);
    epochs.settled(later);
    expect(await isDone(next)).toBe(true);
  });

  test('flushes waiting at once resolve in turn, each when its own sends are done', async () => {
    const epochs = new SendEpochs();
    const first = epochs.begin();
    const flushA = epochs.whenSettled();
    const second = epochs.begin();
    const flushB = epochs.whenSettled();
    // The second send settles first: B still waits for the first one, begun before it too.
    epochs.settled(second);
    expect([await isDone(flushA), await isDone(flushB)]).toEqual([false, false]);
    epochs.settled(first);
    expect([await isDone(flushA), await isDone(flushB)]).toEqual([true, true]);
  });
});
