import { createLogger, PartqError } from '@partq/runtime';
import { StallFence } from './stall-fence.js';

const logger = createLogger({ role: 'broker-test', instanceId: 'stall-fence', level: 'silent' });

function fenceAt(clock: { now: number }, onStall: () => void = () => undefined): StallFence {
  return new StallFence({ thresholdMs: 1000, tickMs: 100, logger, onStall, now: () => clock.now });
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof PartqError) return error.code;
    throw error;
  }
}

describe('StallFence', () => {
  it('serves while the loop keeps turning, however long in total', () => {
    const clock = { now: 0 };
    const fence = fenceAt(clock);
    for (let i = 0; i < 100; i++) {
      clock.now += 1000; // within threshold plus one tick of the last look
      expect(fence.assertServing()).toBe(clock.now);
    }
    expect(fence.fenced).toBe(false);
  });

  it('a gap longer than the threshold fences once, and only an answer to a call sent after it lifts the fence', () => {
    const clock = { now: 0 };
    let stalls = 0;
    const fence = fenceAt(clock, () => stalls++);
    const sentBefore = clock.now;
    clock.now += 5000;
    expect(codeOf(() => fence.assertServing())).toBe('UNAVAILABLE');
    expect(codeOf(() => fence.assertServing())).toBe('UNAVAILABLE');
    expect(stalls).toBe(1);
    fence.confirmed(sentBefore); // the answer to a heartbeat sent before the stall says nothing about it
    expect(fence.fenced).toBe(true);
    const sentAfter = clock.now;
    clock.now += 10;
    fence.confirmed(sentAfter);
    expect(fence.fenced).toBe(false);
    expect(codeOf(() => fence.assertServing())).toBeUndefined();
  });

  it('an append in flight across a stall is refused its acknowledgement; one after it is not', () => {
    const clock = { now: 0 };
    const fence = fenceAt(clock);
    const startedAt = fence.assertServing();
    clock.now += 3000; // frozen while the append was being written
    expect(codeOf(() => fence.assertNoStallSince(startedAt))).toBe('UNAVAILABLE');
    fence.confirmed(clock.now);
    const next = fence.assertServing();
    clock.now += 5;
    expect(codeOf(() => fence.assertNoStallSince(next))).toBeUndefined();
  });

  it('its timer notices a stall with no append arriving, and asks at once', () => {
    jest.useFakeTimers();
    try {
      let stalls = 0;
      const clock = { now: Date.now() };
      const fence = new StallFence({ thresholdMs: 1000, tickMs: 100, logger, onStall: () => stalls++, now: () => clock.now });
      fence.start();
      clock.now += 100;
      jest.advanceTimersByTime(100);
      expect(stalls).toBe(0);
      clock.now += 4000; // the timer is late by as much
      jest.advanceTimersByTime(100);
      expect(stalls).toBe(1);
      expect(fence.fenced).toBe(true);
      fence.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it('fitted to a manager whose timeout leaves less room, it notices the shorter stalls that could get the broker declared dead', () => {
    const clock = { now: 0 };
    // Configured 1 s, noticed past 1.25 s: fine against the default 3 s timeout and 1 s heartbeats.
    const fence = new StallFence({ thresholdMs: 1000, logger, now: () => clock.now });
    fence.fitTo(3000, 1000);
    fence.assertServing();
    clock.now += 1200;
    expect(codeOf(() => fence.assertServing())).toBeUndefined();

    // A 2 s timeout: a 1.1 s stall right after a heartbeat left is 2.1 s of silence.
    fence.fitTo(2000, 1000);
    clock.now += 1100;
    expect(codeOf(() => fence.assertServing())).toBe('UNAVAILABLE');
    fence.confirmed(clock.now);
    // Stalls shorter than timeout - interval - margin stay unnoticed.
    clock.now += 700;
    expect(codeOf(() => fence.assertServing())).toBeUndefined();

    // A later manager with a longer timeout gives the configured length back, never more.
    fence.fitTo(60_000, 1000);
    clock.now += 1200;
    expect(codeOf(() => fence.assertServing())).toBeUndefined();
    clock.now += 1300;
    expect(codeOf(() => fence.assertServing())).toBe('UNAVAILABLE');
  });
});
