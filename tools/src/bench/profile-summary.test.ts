import { summariseProfile } from './profile-summary.js';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

/**
 * A window profiled through the inspector: its first samples are the profiler's own start (a native
 * call under `node:inspector`'s post), carrying the time until the first real sample.
 */
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 5, 6] },
    { id: 2, callFrame: frame('(idle)', '') },
    { id: 3, callFrame: frame('post', 'node:inspector'), children: [4] },
    { id: 4, callFrame: frame('dispatch', '') },
    { id: 5, callFrame: frame('append', 'file:///repo/apps/broker/dist/log/partition-log.js') },
    { id: 6, callFrame: frame('writev', '') },
  ],
  samples: [4, 4, 5, 6, 2, 5],
  timeDeltas: [5_000, 276_000, 1_000, 2_000, 9_000, 1_000],
};

test("leaves out idle time and the profiler's own start and stop", () => {
  const summary = summariseProfile('broker-1-0.cpuprofile', profile);
  expect(summary.busyMs).toBe(4);
  expect(summary.byFunction.map((share) => share.label)).toEqual(['append apps/broker/dist/log/partition-log.js:1', 'writev ']);
  expect(summary.byPackage).toHaveLength(2);
  expect(summary.byPackage).toEqual(
    expect.arrayContaining([
      { label: '(v8: gc, native)', ms: 2 },
      { label: 'apps/broker', ms: 2 },
    ]),
  );
});
