import { choosePartition } from './choose.js';
import { partitionForKey } from './hash.js';

const key = new TextEncoder().encode('customer-42');
const never = () => {
  throw new Error('round robin must not be consulted');
};

describe('choosePartition', () => {
  it('uses the explicit partition first', () => {
    expect(choosePartition({ partitionCount: 4, explicit: 3, key, sequence: 1, roundRobin: never })).toBe(3);
    expect(choosePartition({ partitionCount: 4, explicit: 0, roundRobin: never })).toBe(0);
  });

  it('throws RangeError for an explicit partition out of range', () => {
    for (const explicit of [-1, 4, 1.5, Number.NaN]) {
      expect(() => choosePartition({ partitionCount: 4, explicit, roundRobin: never })).toThrow(RangeError);
    }
  });

  it('hashes the key when no partition is given', () => {
    expect(choosePartition({ partitionCount: 8, key, sequence: 5, roundRobin: never })).toBe(partitionForKey(key, 8));
  });

  it('treats an empty key as no key', () => {
    expect(choosePartition({ partitionCount: 8, key: new Uint8Array(0), roundRobin: () => 6 })).toBe(6);
  });

  it('uses the producer sequence so that a retry picks the same partition', () => {
    const first = choosePartition({ partitionCount: 5, sequence: 17, roundRobin: () => 0 });
    const retry = choosePartition({ partitionCount: 5, sequence: 17, roundRobin: () => 3 });
    expect(first).toBe(2);
    expect(retry).toBe(first);
    expect(() => choosePartition({ partitionCount: 5, sequence: -1, roundRobin: never })).toThrow(RangeError);
  });

  it('falls back to the round-robin counter, reduced into range', () => {
    expect(choosePartition({ partitionCount: 3, roundRobin: () => 7 })).toBe(1);
    expect(choosePartition({ partitionCount: 3, roundRobin: () => -1 })).toBe(2);
  });

  it('rejects a bad partition count', () => {
    expect(() => choosePartition({ partitionCount: 0, roundRobin: () => 0 })).toThrow(RangeError);
  });
});
