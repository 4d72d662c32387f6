import { PartitionMap } from './partition-map.js';

describe('PartitionMap', () => {
  it('keeps a value per (topic, partition), and counts them', () => {
    const map = new PartitionMap<string>();
    map.set(1, 0, 'a').set(1, 1, 'b').set(2, 0, 'c').set(1, 0, 'a2');
    expect(map.size).toBe(3);
    expect([map.get(1, 0), map.get(1, 1), map.get(2, 0), map.get(2, 1), map.get(3, 0)]).toEqual(['a2', 'b', 'c', undefined, undefined]);
    expect([...map.values()].sort()).toEqual(['a2', 'b', 'c']);
  });

  it('deletes one entry, and says whether it was there', () => {
    const map = new PartitionMap<number>();
    map.set(1, 0, 10).set(1, 1, 11);
    expect(map.delete(1, 0)).toBe(true);
    expect(map.delete(1, 0)).toBe(false);
    expect(map.delete(9, 0)).toBe(false);
    expect(map.size).toBe(1);
    expect(map.delete(1, 1)).toBe(true);
    expect([map.size, [...map.values()]]).toEqual([0, []]);
    map.set(1, 1, 12);
    expect(map.get(1, 1)).toBe(12);
  });

  it('tells topic 1 partition 23 from topic 12 partition 3', () => {
    const map = new PartitionMap<string>();
    map.set(1, 23, 'one').set(12, 3, 'twelve');
    expect([map.get(1, 23), map.get(12, 3), map.size]).toEqual(['one', 'twelve', 2]);
  });

  it('clears', () => {
    const map = new PartitionMap<string>();
    map.set(1, 0, 'a').set(2, 0, 'b');
    map.clear();
    expect([map.size, map.get(1, 0), [...map.values()]]).toEqual([0, undefined, []]);
  });
});
