import { settlesWithin } from '../../test/settles-within.js';
import { ChangeSignal } from './change-signal.js';
import { RecordArrivals, type ArrivalSource, type ChangedPartition } from './record-arrivals.js';

/** Partition logs reduced to their end offset, and the change signal appends fire. */
class FakeLogs implements ArrivalSource {
  readonly changes = new ChangeSignal<ChangedPartition>();
  readonly logs = new Map<string, { readableEnd: number }>();
  gets = 0;

  get(topicId: number, partitionId: number): { readableEnd: number } | undefined {
    this.gets++;
    return this.logs.get(`${topicId}/${partitionId}`);
  }

  set(partitionId: number, endOffset: number): void {
    this.logs.set(`1/${partitionId}`, { readableEnd: endOffset });
  }

  append(partitionId: number): void {
    this.logs.get(`1/${partitionId}`)!.readableEnd++;
    this.changes.notify({ topicId: 1, partitionId });
  }
}


describe('RecordArrivals', () => {
  let logs: FakeLogs;
  let arrivals: RecordArrivals;

  beforeEach(() => {
    logs = new FakeLogs();
    logs.set(0, 5);
    logs.set(1, 7);
    arrivals = new RecordArrivals(logs);
  });

  afterEach(() => arrivals.wakeAll());

  it('answers at once when the record is there already, the wait is 0, or the partition is unknown', async () => {
    await arrivals.wait(1, 0, 4, 10_000);
    await arrivals.wait(1, 0, 5, 0);
    await arrivals.wait(1, 9, 0, 10_000);
    expect(arrivals.waiting).toBe(0);
  });

  it('wakes a waiter when its partition grows, not when another one does', async () => {
    const atEndOf0 = arrivals.wait(1, 0, 5, 10_000);
    const atEndOf1 = arrivals.wait(1, 1, 7, 10_000);
    expect(arrivals.waiting).toBe(2);
    logs.append(1);
    expect(await settlesWithin(atEndOf1, 10)).toBe(true);
    expect(await settlesWithin(atEndOf0, 10)).toBe(false);
    logs.append(0);
    expect(await settlesWithin(atEndOf0, 10)).toBe(true);
    expect(arrivals.waiting).toBe(0);
  });

  it("looks only at the waiters of the partition a change names, and at everyone's for a change that names none", async () => {
    for (let partitionId = 2; partitionId < 50; partitionId++) {
      logs.set(partitionId, 0);
      void arrivals.wait(1, partitionId, 0, 10_000);
    }
    const atEndOf0 = arrivals.wait(1, 0, 5, 10_000);
    const getsBefore = logs.gets;
    logs.append(0);
    expect(await settlesWithin(atEndOf0, 10)).toBe(true);
    expect(logs.gets - getsBefore).toBe(1);
    logs.changes.notify();
    expect(logs.gets - getsBefore).toBe(1 + 48);
    expect(arrivals.waiting).toBe(48);
  });

  it('ends a wait at its timeout and when its signal aborts', async () => {
    const started = Date.now();
    await arrivals.wait(1, 0, 5, 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    const controller = new AbortController();
    const aborted = arrivals.wait(1, 0, 5, 10_000, controller.signal);
    controller.abort();
    expect(await settlesWithin(aborted, 10)).toBe(true);
    expect(arrivals.waiting).toBe(0);
  });

  it('releases waiters of a partition that was closed or replaced, and everyone on wakeAll', async () => {
    const closed = arrivals.wait(1, 0, 5, 10_000);
    const other = arrivals.wait(1, 1, 7, 10_000);
    logs.logs.delete('1/0');
    logs.changes.notify({ topicId: 1, partitionId: 0 });
    expect(await settlesWithin(closed, 10)).toBe(true);
    expect(await settlesWithin(other, 10)).toBe(false);
    const replaced = arrivals.wait(1, 1, 7, 10_000);
    logs.set(1, 7);
    logs.changes.notify();
    expect(await settlesWithin(replaced, 10)).toBe(true);
    expect(await settlesWithin(other, 10)).toBe(true);
    const afterAll = arrivals.wait(1, 1, 7, 10_000);
    arrivals.wakeAll();
    expect(await settlesWithin(afterAll, 10)).toBe(true);
  });

  it('keeps watching after every waiter left and a new one came', async () => {
    const controller = new AbortController();
    const first = arrivals.wait(1, 0, 5, 10_000, controller.signal);
    controller.abort();
    await first;
    const second = arrivals.wait(1, 0, 5, 10_000);
    const getsBefore = logs.gets;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Idle: no busy re-checking while nothing changes.
    expect(logs.gets).toBe(getsBefore);
    logs.append(0);
    expect(await settlesWithin(second, 10)).toBe(true);
  });

  it('listens to the change signal only while someone waits', async () => {
    const listening = (): number => (logs.changes as unknown as { listeners: Set<unknown> }).listeners.size;
    expect(listening()).toBe(0);
    const first = arrivals.wait(1, 0, 5, 10_000);
    const second = arrivals.wait(1, 1, 7, 10_000);
    expect(listening()).toBe(1);
    logs.append(0);
    await first;
    expect(listening()).toBe(1);
    logs.append(1);
    await second;
    expect(listening()).toBe(0);
  });
});
