import type { BrokerRow, BrokerState, PartitionRow } from '@partq/schema';
import type { MoveReport } from '../assignment/partition-mover.js';
import { FullDiskDrains } from './full-disk-drains.js';

/** A cluster of brokers by id, each with its state and how many partitions it owns. */
function clusterOf(brokers: Record<number, { state: BrokerState; partitions: number }>) {
  const rows = new Map<number, BrokerRow>();
  for (const [id, broker] of Object.entries(brokers)) rows.set(Number(id), { id: Number(id), state: broker.state } as BrokerRow);
  return {
    brokers: rows,
    partitionsOwnedBy: (id: number) => Array.from({ length: brokers[id]?.partitions ?? 0 }, () => ({}) as PartitionRow),
  };
}

const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
const moved: MoveReport = { moved: [{ topicId: 1, partitionId: 0, from: 2, to: 1, epoch: 2 }], failed: [] };
const leftBehind: MoveReport = { moved: [], failed: [{ topicId: 1, partitionId: 0, reason: 'timed out' }] };

/** Lets the drain's settling callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FullDiskDrains', () => {
  test('drains a broker that reports a full disk, once while the drain runs', async () => {
    let finish!: (report: MoveReport) => void;
    const drain = jest.fn(() => new Promise<MoveReport>((resolve) => (finish = resolve)));
    const drains = new FullDiskDrains({ state: clusterOf({ 1: { state: 'alive', partitions: 1 }, 2: { state: 'alive', partitions: 2 } }), drain, logger });
    drains.reported(2, true);
    drains.reported(2, true);
    expect(drain.mock.calls).toEqual([[2]]);
    finish(moved);
    await settle();
    expect(logger.info).toHaveBeenCalledWith({ brokerId: 2, moved: 1 }, expect.stringContaining('drained'));
  });

  test('leaves alone brokers with room, dead brokers, and drained ones that own nothing', () => {
    const drain = jest.fn(async () => moved);
    const drains = new FullDiskDrains({
      state: clusterOf({ 1: { state: 'alive', partitions: 1 }, 2: { state: 'dead', partitions: 1 }, 3: { state: 'draining', partitions: 0 } }),
      drain,
      logger,
    });
    drains.reported(1, false);
    drains.reported(2, true);
    drains.reported(3, true);
    drains.reported(4, true);
    expect(drain).not.toHaveBeenCalled();
  });

  test('remembers what each broker said last, for the health table', () => {
    const drains = new FullDiskDrains({ state: clusterOf({ 1: { state: 'draining', partitions: 0 } }), drain: jest.fn(async () => moved), logger });
    expect(drains.isFull(1)).toBe(false);
    drains.reported(1, true);
    expect(drains.isFull(1)).toBe(true);
    drains.reported(1, false);
    expect(drains.isFull(1)).toBe(false);
  });

  test('a draining broker that still owns partitions (an earlier drain left them) is drained again', () => {
    const drain = jest.fn(async () => moved);
    const drains = new FullDiskDrains({ state: clusterOf({ 2: { state: 'draining', partitions: 1 } }), drain, logger });
    drains.reported(2, true);
    expect(drain.mock.calls).toEqual([[2]]);
  });

  test('after a drain that failed or left partitions behind, it is tried again once the retry delay passed, doubled each time in a row', async () => {
    const reports: (MoveReport | Error)[] = [leftBehind, new Error('no other alive broker'), leftBehind, leftBehind, leftBehind, moved, leftBehind, moved];
    // When each drain was called: a retry comes no sooner than its delay after the drain before it.
    const calledAt: number[] = [];
    const drain = jest.fn(async () => {
      calledAt.push(Date.now());
      const next = reports.shift()!;
      if (next instanceof Error) throw next;
      return next;
    });
    const drains = new FullDiskDrains({ state: clusterOf({ 2: { state: 'draining', partitions: 1 } }), drain, logger, retryAfterMs: 100, maxRetryAfterMs: 1000 });
    /** Heartbeats saying the disk is full, every 20 ms, until the drain is called again; the time since the drain before. */
    const untilNextDrain = async (): Promise<number> => {
      const calls = drain.mock.calls.length;
      while (drain.mock.calls.length === calls) {
        drains.reported(2, true);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await settle();
      return calledAt[calledAt.length - 1]! - calledAt[calledAt.length - 2]!;
    };
    drains.reported(2, true);
    await settle();
    expect(drain).toHaveBeenCalledTimes(1);
    expect(await untilNextDrain()).toBeGreaterThanOrEqual(100); // after 1 drain left partitions: 100 ms
    expect(logger.error).toHaveBeenCalledWith(expect.objectContaining({ brokerId: 2 }), expect.stringContaining('trying again'));
    expect(await untilNextDrain()).toBeGreaterThanOrEqual(200); // after 2 in a row: 200 ms
    expect(await untilNextDrain()).toBeGreaterThanOrEqual(400); // 400 ms
    expect(await untilNextDrain()).toBeGreaterThanOrEqual(800); // 800 ms
    expect(await untilNextDrain()).toBeGreaterThanOrEqual(1000); // 1 600 ms, capped at 1 000
    // That one moved everything, so the count starts again: the next drain that leaves partitions behind is retried after 100 ms.
    expect(drain).toHaveBeenCalledTimes(6);
    drains.reported(2, true);
    await settle();
    expect(drain).toHaveBeenCalledTimes(7);
    const retried = await untilNextDrain();
    expect(retried).toBeGreaterThanOrEqual(100);
    // Far below the 1 000 ms it would wait had the count not started again (a loaded machine's timers run late).
    expect(retried).toBeLessThan(900);
  });
});
