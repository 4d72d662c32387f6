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

  it('releases records held until acknowledged as their acknowledgements come, in any order', () => {
    const holds = new ReadHolds();
    holds.hold(0, 2, 'acknowledged');
    holds.hold(2, 3, 'acknowledged');
    holds.hold(3, 5, 'committed');
    holds.hold(5, 8, 'acknowledged');
    expect(holds.readableEnd(10)).toBe(0);
    // The second append answered first: nothing moves for readers yet.
    expect(holds.acknowledge(2, 3)).toBe(false);
    expect(holds.readableEnd(10)).toBe(0);
    expect(holds.acknowledge(0, 2)).toBe(true);
    // Up to the acks=all records: an acknowledgement does not release them.
    expect(holds.readableEnd(10)).toBe(3);
    expect(holds.acknowledge(3, 5)).toBe(false);
    expect(holds.readableEnd(10)).toBe(3);
    // A retry acknowledges one record out of the middle of a range: the rest stays held.
    expect(holds.acknowledge(6, 7)).toBe(false);
    expect(holds.release(5)).toBe(true);
    expect(holds.readableEnd(10)).toBe(5);
    expect(holds.acknowledge(5, 6)).toBe(true);
    expect(holds.readableEnd(10)).toBe(7);
    // A commit releases what was never acknowledged.
    expect(holds.release(8)).toBe(true);
    expect(holds.readableEnd(10)).toBe(10);
  });

  it('merges only ranges held until the same thing', () => {
    const holds = new ReadHolds();
    holds.hold(0, 2, 'acknowledged');
    holds.hold(2, 4, 'acknowledged');
    holds.hold(4, 6, 'committed');
    // Two appends' ranges merged: each acknowledgement releases its own part.
    expect(holds.acknowledge(0, 2)).toBe(true);
    expect(holds.readableEnd(10)).toBe(2);
    expect(holds.acknowledge(2, 4)).toBe(true);
    expect(holds.readableEnd(10)).toBe(4);
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
