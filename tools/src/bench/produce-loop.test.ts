import { LatencyRecorder } from './latency-recorder.js';
import { produceFor } from './produce-loop.js';

/** A send that settles after `delayMs` on a timer: acknowledged, or failed every `failEvery`-th call. */
function timedSends(delayMs: number, failEvery = 0) {
  const state = { calls: 0, outstanding: 0, mostOutstanding: 0 };
  const send = (): Promise<unknown> => {
    const call = ++state.calls;
    state.outstanding++;
    state.mostOutstanding = Math.max(state.mostOutstanding, state.outstanding);
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        state.outstanding--;
        if (failEvery > 0 && call % failEvery === 0) reject(new Error(`send ${call} failed`));
        else resolve(call);
      }, delayMs),
    );
  };
  return { send, state };
}

test('pipelined: keeps at most `window` sends outstanding, and returns once every one has settled', async () => {
  const { send, state } = timedSends(5);
  const latency = new LatencyRecorder();
  const tally = { acked: 0, errors: 0 };
  await produceFor(send, 'pipelined', 200, 7, latency, tally);
  expect(state.calls).toBeGreaterThan(7);
  expect(state.mostOutstanding).toBe(7);
  expect(state.outstanding).toBe(0);
  expect(tally).toEqual({ acked: state.calls, errors: 0 });
  expect(latency.count).toBe(state.calls);
  expect(latency.summary().p50Ms).toBeGreaterThanOrEqual(4);
});

test('pipelined: a failed send is counted, named, and frees its place in the window', async () => {
  const { send, state } = timedSends(2, 3);
  const latency = new LatencyRecorder();
  const tally: { acked: number; errors: number; firstError?: string } = { acked: 0, errors: 0 };
  await produceFor(send, 'pipelined', 150, 4, latency, tally);
  expect(state.calls).toBeGreaterThan(8);
  expect(state.outstanding).toBe(0);
  expect(tally.errors).toBe(Math.floor(state.calls / 3));
  expect(tally.acked).toBe(state.calls - tally.errors);
  expect(tally.firstError).toContain('send 3 failed');
  // Latency is recorded for acknowledged sends only.
  expect(latency.count).toBe(tally.acked);
});

test('one at a time: never more than one send outstanding', async () => {
  const { send, state } = timedSends(2);
  const tally = { acked: 0, errors: 0 };
  await produceFor(send, 'one-at-a-time', 30, 100, new LatencyRecorder(), tally);
  expect(state.mostOutstanding).toBe(1);
  expect(tally.acked).toBe(state.calls);
});
