import type { BrokerRow, BrokerState, PartitionRow } from '@partq/schema';
import type { MoveReport } from '../assignment/partition-mover.js';
import { FullDiskDrains } from './full-disk-drains.js';

/** A cluster of brokers by id, each with its state and how many partitions it owns. */
function clusterOf(brokers: Record<number, { state: BrokerState; partitions: number }>) {
  const rows = new Map<number, BrokerRow>();
  for (const [id, broker] of Object.entries(brokers)) rows.set(Number(id), { id: Number(id), state: broker.state, drain_reason: null } as BrokerRow);
  return {
    brokers: rows,
    partitionsOwnedBy: (id: number) => Array.from({ length: brokers[id]?.partitions ?? 0 }, () => ({}) as PartitionRow),
  };
}

const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
const moved: MoveReport = { moved: [{ topicId: 1, partitionId: 0, from: 2, to: 1, epoch: 2 }], failed: [] };
const leftBehind: MoveReport = { moved: [], failed: [{ topicId: 1, partitionId: 0, reason: 'timed out' }] };

/** No resuming by itself: the tests of draining leave it out. */
const byOperatorOnly = { resume: async () => undefined, resumeAfterMs: 0 };

/** Lets the drain's settling callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FullDiskDrains', () => {
  test('drains a broker that reports a full disk, once while the drain runs', async () => {
    let finish!: (report: MoveReport) => void;
    const drain = jest.fn(() => new Promise<MoveReport>((resolve) => (finish = resolve)));
    const drains = new FullDiskDrains({ state: clusterOf({ 1: { state: 'alive', partitions: 1 }, 2: { state: 'alive', partitions: 2 } }), drain, logger, ...byOperatorOnly });
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
      ...byOperatorOnly,
    });
    drains.reported(1, false);
    drains.reported(2, true);
    drains.reported(3, true);
    drains.reported(4, true);
    expect(drain).not.toHaveBeenCalled();
  });

  test('remembers what each broker said last, for the health table', () => {
    const drains = new FullDiskDrains({ state: clusterOf({ 1: { state: 'draining', partitions: 0 } }), drain: jest.fn(async () => moved), logger, ...byOperatorOnly });
    expect(drains.isFull(1)).toBe(false);
    drains.reported(1, true);
    expect(drains.isFull(1)).toBe(true);
    drains.reported(1, false);
    expect(drains.isFull(1)).toBe(false);
  });

  test('a draining broker that still owns partitions (an earlier drain left them) is drained again', () => {
    const drain = jest.fn(async () => moved);
    const drains = new FullDiskDrains({ state: clusterOf({ 2: { state: 'draining', partitions: 1 } }), drain, logger, ...byOperatorOnly });
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
    const drains = new FullDiskDrains({ state: clusterOf({ 2: { state: 'draining', partitions: 1 } }), drain, logger, ...byOperatorOnly, retryAfterMs: 100, maxRetryAfterMs: 1000 });
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

  describe('resuming a broker drained for a full disk', () => {
    const RESUME_AFTER_MS = 60_000;

    /** Broker 2 with a full disk, drained (its partitions moved) by FullDiskDrains; resume() puts it back as the manager does. */
    async function drainedBroker(resumeAfterMs = RESUME_AFTER_MS) {
      const cluster = clusterOf({ 1: { state: 'alive', partitions: 2 }, 2: { state: 'alive', partitions: 1 } });
      const broker = cluster.brokers.get(2)!;
      const clock = { ms: 1_000_000 };
      // As the manager's DrainBroker and ResumeBroker change the broker's row.
      const drain = jest.fn(async () => {
        broker.state = 'draining';
        broker.drain_reason = 'disk_full';
        return moved;
      });
      const resume = jest.fn(async () => {
        broker.state = 'alive';
        broker.drain_reason = null;
      });
      const drains = new FullDiskDrains({ state: { ...cluster, partitionsOwnedBy: () => [] }, drain, resume, logger, resumeAfterMs, now: () => clock.ms });
      const fill = async () => {
        drains.reported(2, true);
        await settle();
      };
      /** Heartbeats saying the disk has room, one a second, for `ms`. */
      const roomFor = async (ms: number) => {
        for (const until = clock.ms + ms; clock.ms <= until; clock.ms += 1_000) drains.reported(2, false);
        await settle();
      };
      await fill();
      expect(drain).toHaveBeenCalledTimes(1);
      return { drains, drain, resume, broker, fill, roomFor };
    }

    test('once its heartbeats have said for the resume delay that its disk has room, and only then', async () => {
      const { resume, broker, roomFor } = await drainedBroker();
      await roomFor(RESUME_AFTER_MS - 2_000);
      expect(resume).not.toHaveBeenCalled();
      await roomFor(2_000);
      expect(resume.mock.calls).toEqual([[2]]);
      expect(broker.state).toBe('alive');
      expect(logger.info).toHaveBeenCalledWith(expect.objectContaining({ brokerId: 2, roomForMs: RESUME_AFTER_MS }), expect.stringContaining('resumed'));
      await roomFor(RESUME_AFTER_MS * 2);
      expect(resume).toHaveBeenCalledTimes(1);
    });

    test('a heartbeat saying the disk is full again starts the wait over', async () => {
      const { drains, resume, roomFor } = await drainedBroker();
      await roomFor(RESUME_AFTER_MS - 10_000);
      drains.reported(2, true);
      await roomFor(RESUME_AFTER_MS - 10_000);
      expect(resume).not.toHaveBeenCalled();
      await roomFor(10_000);
      expect(resume).toHaveBeenCalledTimes(1);
    });

    test('a broker that fills up again waits twice as long each time, up to an hour', async () => {
      const { drain, resume, fill, roomFor } = await drainedBroker();
      const resumedAfter: number[] = [];
      for (let fills = 1; fills <= 8; fills++) {
        let waited = 0;
        while (resume.mock.calls.length < fills) {
          await roomFor(0);
          waited += 1_000;
        }
        resumedAfter.push(waited - 1_000);
        await fill();
        expect(drain).toHaveBeenCalledTimes(fills + 1);
      }
      expect(resumedAfter.map((ms) => ms / 60_000)).toEqual([1, 2, 4, 8, 16, 32, 60, 60]);
    });

    test('drains that could not start (no other broker) and were tried again count as one fill', async () => {
      const cluster = clusterOf({ 2: { state: 'alive', partitions: 1 } });
      const broker = cluster.brokers.get(2)!;
      let now = 0;
      let attempts = 0;
      const drain = jest.fn(async () => {
        if (++attempts < 3) throw new Error('cannot drain broker 2: no other alive broker to take its partitions');
        broker.state = 'draining';
        broker.drain_reason = 'disk_full';
        return moved;
      });
      const resume = jest.fn(async () => undefined);
      const drains = new FullDiskDrains({ state: { ...cluster, partitionsOwnedBy: () => [] }, drain, resume, logger, resumeAfterMs: RESUME_AFTER_MS, now: () => now });
      for (; attempts < 3; now += 1_000) {
        drains.reported(2, true);
        await settle();
      }
      const drainedAt = now;
      for (; resume.mock.calls.length === 0 && now < drainedAt + 10 * RESUME_AFTER_MS; now += 1_000) {
        drains.reported(2, false);
        await settle();
      }
      expect(now - drainedAt).toBeLessThanOrEqual(RESUME_AFTER_MS + 1_000);
    });

    test('a failed resume is tried again at the next heartbeat', async () => {
      const { resume, roomFor } = await drainedBroker();
      resume.mockRejectedValueOnce(new Error('the central database is unreachable'));
      await roomFor(RESUME_AFTER_MS);
      expect(resume).toHaveBeenCalledTimes(1);
      expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ brokerId: 2 }), expect.stringContaining('trying again'));
      await roomFor(0);
      expect(resume).toHaveBeenCalledTimes(2);
    });

    test('never with a resume delay of 0, nor once an operator drained it', async () => {
      const never = await drainedBroker(0);
      await never.roomFor(RESUME_AFTER_MS * 2);
      expect(never.resume).not.toHaveBeenCalled();

      // An operator's DrainBroker of a broker drained for its disk makes the drain theirs.
      const drained = await drainedBroker();
      await drained.roomFor(RESUME_AFTER_MS / 2);
      drained.broker.drain_reason = 'operator';
      await drained.roomFor(RESUME_AFTER_MS * 2);
      expect(drained.resume).not.toHaveBeenCalled();
    });

    test('a broker draining for its disk before this manager started (a restart, a standby taking over) is resumed too', async () => {
      const cluster = clusterOf({ 1: { state: 'alive', partitions: 2 }, 2: { state: 'draining', partitions: 0 } });
      cluster.brokers.get(2)!.drain_reason = 'disk_full';
      let now = 0;
      const resume = jest.fn(async () => undefined);
      const drains = new FullDiskDrains({ state: cluster, drain: jest.fn(async () => moved), resume, logger, resumeAfterMs: RESUME_AFTER_MS, now: () => now });
      for (; now <= RESUME_AFTER_MS; now += 1_000) drains.reported(2, false);
      await settle();
      expect(resume.mock.calls).toEqual([[2]]);
    });
  });
});
