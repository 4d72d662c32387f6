import { StickyPartitions } from './sticky-partitions.js';

describe('StickyPartitions', () => {
  it('keeps a topic on one partition until an Append to it comes back, then takes the next', () => {
    const sticky = new StickyPartitions(() => 1);
    expect(sticky.partitionFor(7, 3)).toBe(1);
    expect(sticky.partitionFor(7, 3)).toBe(1);
    sticky.settled(7, 1, 3);
    expect(sticky.partitionFor(7, 3)).toBe(2);
    sticky.settled(7, 2, 3);
    expect(sticky.partitionFor(7, 3)).toBe(0);
  });

  it('moves on only for an Append to the current partition', () => {
    const sticky = new StickyPartitions(() => 0);
    expect(sticky.partitionFor(1, 4)).toBe(0);
    sticky.settled(1, 3, 4);
    expect(sticky.partitionFor(1, 4)).toBe(0);
  });

  it('keeps topics apart, and starts over when a topic has fewer partitions than its current one', () => {
    let next = 5;
    const sticky = new StickyPartitions(() => next++);
    expect(sticky.partitionFor(1, 8)).toBe(5);
    expect(sticky.partitionFor(2, 8)).toBe(6);
    sticky.settled(1, 5, 8);
    expect(sticky.partitionFor(2, 8)).toBe(6);
    expect(sticky.partitionFor(1, 8)).toBe(6);
    expect(sticky.partitionFor(1, 4)).toBe(3);
  });
});
