import { PartitionCursor } from './partition-cursor.js';

describe('PartitionCursor', () => {
  it('starts at partition 0, then after the partition last served, wrapping around', () => {
    const cursor = new PartitionCursor();
    expect(cursor.order(7, [0, 1, 2, 3])).toEqual([0, 1, 2, 3]);
    cursor.served(7, 1);
    expect(cursor.order(7, [0, 1, 2, 3])).toEqual([2, 3, 0, 1]);
    cursor.served(7, 3);
    expect(cursor.order(7, [0, 1, 2, 3])).toEqual([0, 1, 2, 3]);
    expect(cursor.order(8, [0, 1, 2, 3])).toEqual([0, 1, 2, 3]);
  });

  it('forgets the least recently served consumers beyond its bound', () => {
    const cursor = new PartitionCursor(2);
    cursor.served(1, 0);
    cursor.served(2, 0);
    cursor.served(3, 0);
    expect(cursor.order(1, [0, 1])).toEqual([0, 1]);
    expect(cursor.order(3, [0, 1])).toEqual([1, 0]);
  });
});
