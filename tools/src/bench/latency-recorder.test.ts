import { LatencyRecorder } from './latency-recorder.js';

describe('LatencyRecorder', () => {
  it('summarises by nearest rank and counts the samples over a bound', () => {
    const recorder = new LatencyRecorder();
    for (let ms = 1; ms <= 2000; ms++) recorder.record(ms / 10);
    expect(recorder.count).toBe(2000);
    expect(recorder.summary()).toMatchObject({ count: 2000, p50Ms: 100, p99Ms: 198, maxMs: 200 });
    // Strictly over: 150.1 … 200.0.
    expect(recorder.countAbove(150)).toBe(500);
    expect(recorder.countAbove(200)).toBe(0);
    expect(new LatencyRecorder().countAbove(0)).toBe(0);
  });
});
