import { ReadHolds } from './read-holds.js';

describe('ReadHolds', () => {
  it('lets readers see the durable end when nothing is held', () => {
    expect(new ReadHolds().readableEnd(10)).toBe(10);
  });

  it('stops readers at the first held offset the manager has not committed', () => {
    const holds = new ReadHolds();
    holds.hold(4, 6);
    holds.hold(8, 9);
    expect(holds.readableEnd(10)).toBe(4);
    // Never past what is durable.
    expect(holds.readableEnd(3)).toBe(3);
    // Committed part of the way into the first range: readable up to the commit.
    holds.release(5);
    expect(holds.readableEnd(10)).toBe(5);
    holds.release(6);
    expect(holds.readableEnd(10)).toBe(8);
    holds.release(9);
    expect(holds.readableEnd(10)).toBe(10);
  });

  it('releases what the manager committed, and says whether anything moved', () => {
    const holds = new ReadHolds();
    holds.hold(4, 6);
    holds.hold(8, 9);
    expect(holds.release(3)).toBe(false);
    expect(holds.release(5)).toBe(true);
    expect(holds.readableEnd(10)).toBe(5);
    expect(holds.release(6)).toBe(true);
    expect(holds.readableEnd(10)).toBe(8);
    expect(holds.release(20)).toBe(true);
    expect(holds.readableEnd(10)).toBe(10);
    expect(holds.release(30)).toBe(false);
  });

  it('merges ranges that touch', () => {
    const holds = new ReadHolds();
    holds.hold(4, 6);
    holds.hold(6, 8);
    // One range: committing its first part does not make the second readable.
    holds.release(6);
    expect(holds.readableEnd(10)).toBe(6);
    holds.release(7);
    expect(holds.readableEnd(10)).toBe(7);
  });

  it('forgets everything on clear (before a rebuild from the WAL)', () => {
    const holds = new ReadHolds();
    holds.hold(4, 6);
    holds.hold(8, 12);
    holds.clear();
    expect(holds.readableEnd(20)).toBe(20);
    holds.hold(9, 10);
    expect(holds.readableEnd(20)).toBe(9);
  });

  it('ignores empty ranges', () => {
    const holds = new ReadHolds();
    holds.hold(5, 5);
    expect(holds.readableEnd(10)).toBe(10);
  });
});
