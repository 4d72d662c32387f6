import { UpdatesReadiness, type PendingSource } from './updates-readiness.js';

/** Logs reduced to their end offset and acks=all waiters, counting how often they are asked. */
class FakeLogs implements PendingSource {
  readonly logs = new Map<string, { end: number; commitWaiters: number; movingAway: boolean; pendingSince(from: number): number }>();
  gets = 0;

  get(topicId: number, partitionId: number) {
    this.gets++;
    return this.logs.get(`${topicId}/${partitionId}`);
  }

  set(partitionId: number, end: number, commitWaiters = 0, movingAway = false): void {
    this.logs.set(`1/${partitionId}`, { end, commitWaiters, movingAway, pendingSince: (from) => Math.max(0, end - from) });
  }
}

describe('UpdatesReadiness', () => {
  let logs: FakeLogs;
  beforeEach(() => {
    logs = new FakeLogs();
    for (let partitionId = 0; partitionId < 40; partitionId++) logs.set(partitionId, 10);
  });
  const wanted = (from: number) => Array.from({ length: 40 }, (_, partitionId) => ({ topicId: 1, partitionId, from }));

  it('counts the records pending past each from, afresh for a change that names no partition', () => {
    const readiness = new UpdatesReadiness(logs, wanted(10), 5);
    expect(readiness.ready()).toBe(false);
    logs.set(3, 13);
    logs.set(7, 12);
    expect(readiness.ready()).toBe(true);
  });

  it('looks only at the partition a change names, keeping the count of the others', () => {
    const readiness = new UpdatesReadiness(logs, wanted(9), 45);
    expect(readiness.ready()).toBe(false); // 40 pending
    const getsBefore = logs.gets;
    logs.set(5, 12);
    expect(readiness.ready({ topicId: 1, partitionId: 5 })).toBe(false); // 42
    logs.set(6, 13);
    expect(readiness.ready({ topicId: 1, partitionId: 6 })).toBe(true); // 45
    expect(logs.gets - getsBefore).toBe(2);
  });

  it('ignores partitions it was not asked about, and counts a partition gone as nothing pending', () => {
    const readiness = new UpdatesReadiness(logs, wanted(9).slice(0, 2), 3);
    expect(readiness.ready()).toBe(false); // 2 pending
    logs.set(30, 100);
    expect(readiness.ready({ topicId: 1, partitionId: 30 })).toBe(false);
    expect(readiness.ready({ topicId: 2, partitionId: 0 })).toBe(false);
    logs.set(1, 12);
    expect(readiness.ready({ topicId: 1, partitionId: 1 })).toBe(true); // 4
    logs.logs.delete('1/1');
    expect(readiness.ready({ topicId: 1, partitionId: 1 })).toBe(false); // 1
  });

  it('is ready as soon as an acks=all append waits on a partition asked about', () => {
    const readiness = new UpdatesReadiness(logs, wanted(10), 1000);
    expect(readiness.ready()).toBe(false);
    logs.set(20, 10, 1);
    expect(readiness.ready({ topicId: 1, partitionId: 20 })).toBe(true);
  });

  it('is ready as soon as a partition being moved away has records the manager has not taken', () => {
    const readiness = new UpdatesReadiness(logs, wanted(10), 1000);
    logs.set(4, 10, 0, true);
    expect(readiness.ready({ topicId: 1, partitionId: 4 })).toBe(false); // moving, but nothing pending
    logs.set(4, 12, 0, true);
    expect(readiness.ready({ topicId: 1, partitionId: 4 })).toBe(true);
    // Once the manager has them (the next round's from), a fenced partition waits like any other.
    expect(new UpdatesReadiness(logs, wanted(12), 1000).ready()).toBe(false);
  });
});
