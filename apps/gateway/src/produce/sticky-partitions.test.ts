import { StickyPartitions } from './sticky-partitions.js';

describe('StickyPartitions', () => {
  it('keeps a topic on one partition until an Append to it comes back, then takes the next', () => {
    const sticky = new StickyPartitions({ start: () => 1 });
    expect(sticky.partitionFor(7, 3)).toBe(1);
    expect(sticky.partitionFor(7, 3)).toBe(1);
    sticky.settled(7, 1, 3, false);
    expect(sticky.partitionFor(7, 3)).toBe(2);
    sticky.settled(7, 2, 3, false);
    expect(sticky.partitionFor(7, 3)).toBe(0);
  });

  it('moves on only for an Append to the current partition', () => {
    const sticky = new StickyPartitions({ start: () => 0 });
    expect(sticky.partitionFor(1, 4)).toBe(0);
    sticky.settled(1, 3, 4, false);
    expect(sticky.partitionFor(1, 4)).toBe(0);
  });

  it('keeps topics apart, and starts over when a topic has fewer partitions than its current one', () => {
    let next = 5;
    const sticky = new StickyPartitions({ start: () => next++ });
    expect(sticky.partitionFor(1, 8)).toBe(5);
    expect(sticky.partitionFor(2, 8)).toBe(6);
    sticky.settled(1, 5, 8, false);
    expect(sticky.partitionFor(2, 8)).toBe(6);
    expect(sticky.partitionFor(1, 8)).toBe(6);
    expect(sticky.partitionFor(1, 4)).toBe(3);
  });
});

describe('StickyPartitions, a stalled partition', () => {
  it('moves new messages on when the Append to the current partition is out longer than the limit', () => {
    let now = 1_000;
    const stalls: [number, number][] = [];
    const sticky = new StickyPartitions({ start: () => 0, stallMs: 200, now: () => now, onStall: (topic, partition) => stalls.push([topic, partition]) });
    expect(sticky.partitionFor(1, 3)).toBe(0);
    sticky.sent(1, 0, 100);
    now += 150;
    expect(sticky.partitionFor(1, 3)).toBe(0);
    now += 100;
    expect(sticky.partitionFor(1, 3)).toBe(1);
    expect(stalls).toEqual([[1, 0]]);
    // The stalled Append coming back later does not move the partition again.
    sticky.settled(1, 0, 3, false);
    expect(sticky.partitionFor(1, 3)).toBe(1);
  });

  it('times a partition from its oldest Append still out', () => {
    let now = 0;
    const sticky = new StickyPartitions({ start: () => 2, stallMs: 200, now: () => now });
    expect(sticky.partitionFor(9, 3)).toBe(2);
    sticky.sent(9, 2, 100);
    now = 150;
    sticky.sent(9, 2, 100);
    now = 201;
    expect(sticky.partitionFor(9, 3)).toBe(0);
  });
});

describe('StickyPartitions staying for stickyBytes', () => {
  it('stays on a partition while its Appends come back, until stickyBytes have gone to it', () => {
    const sticky = new StickyPartitions({ start: () => 0, stickyBytes: 1000 });
    expect(sticky.partitionFor(3, 3)).toBe(0);
    sticky.sent(3, 0, 600);
    sticky.settled(3, 0, 3, false);
    expect(sticky.partitionFor(3, 3)).toBe(0);
    sticky.sent(3, 0, 400);
    sticky.settled(3, 0, 3, false);
    expect(sticky.partitionFor(3, 3)).toBe(1);
    // The new partition counts from zero.
    sticky.sent(3, 1, 999);
    sticky.settled(3, 1, 3, false);
    expect(sticky.partitionFor(3, 3)).toBe(1);
  });

  it('counts only Appends to the current partition', () => {
    const sticky = new StickyPartitions({ start: () => 0, stickyBytes: 1000 });
    expect(sticky.partitionFor(3, 3)).toBe(0);
    sticky.sent(3, 2, 5000);
    sticky.settled(3, 2, 3, false);
    sticky.settled(3, 0, 3, false);
    expect(sticky.partitionFor(3, 3)).toBe(0);
  });

  it('still leaves a partition whose Append stalls, whatever went to it', () => {
    let now = 0;
    const sticky = new StickyPartitions({ start: () => 0, stickyBytes: 1_000_000, stallMs: 200, now: () => now });
    expect(sticky.partitionFor(4, 3)).toBe(0);
    sticky.sent(4, 0, 10);
    now = 150;
    sticky.settled(4, 0, 3, false);
    // Came back in time: the clock starts again with the next Append.
    sticky.sent(4, 0, 10);
    now = 300;
    expect(sticky.partitionFor(4, 3)).toBe(0);
    now = 351;
    expect(sticky.partitionFor(4, 3)).toBe(1);
  });

  it('moves on at once when requests wait for the partition: they go out there next, new ones take an idle one', () => {
    const sticky = new StickyPartitions({ start: () => 0, stickyBytes: 1_000_000 });
    expect(sticky.partitionFor(5, 3)).toBe(0);
    sticky.sent(5, 0, 10);
    sticky.settled(5, 0, 3, true);
    expect(sticky.partitionFor(5, 3)).toBe(1);
    sticky.sent(5, 1, 10);
    sticky.settled(5, 1, 3, false);
    expect(sticky.partitionFor(5, 3)).toBe(1);
  });
});
