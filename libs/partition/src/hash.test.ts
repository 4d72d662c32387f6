import { murmur2, partitionForKey } from './hash.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('murmur2', () => {
  // Vectors from Kafka's own UtilsTest.testMurmur2 (clients/src/test/java/.../utils/UtilsTest.java).
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('matches the Kafka Java client for %j', (input, expected) => {
    expect(murmur2(bytes(input))).toBe(expected);
  });

  // Every tail length (0..3 trailing bytes), values produced by Kafka's Utils.murmur2 as quoted by Akka's Murmur2Spec.
  it.each([
    ['1', -1993445489],
    ['12', 126087238],
    ['123', -267702483],
    ['1234', -1614185708],
    ['12345', -1188365604],
  ])('matches Kafka for %j', (input, expected) => {
    expect(murmur2(bytes(input))).toBe(expected);
  });

  it('reads bytes as unsigned values', () => {
    const high = new Uint8Array([0xff, 0x80, 0x7f, 0x00, 0xfe]);
    expect(Number.isInteger(murmur2(high))).toBe(true);
    expect(murmur2(high)).toBe(murmur2(Uint8Array.from(high)));
    expect(murmur2(high)).not.toBe(murmur2(new Uint8Array([0x7f, 0x80, 0x7f, 0x00, 0xfe])));
  });

  it('returns a signed 32-bit integer', () => {
    for (let i = 0; i < 200; i++) {
      const h = murmur2(bytes(`key-${i}`));
      expect(h).toBe(h | 0);
    }
  });
});

describe('partitionForKey', () => {
  it('is the positive hash modulo the partition count', () => {
    // murmur2("21") = -973932308; & 0x7fffffff = 1173551340
    expect(partitionForKey(bytes('21'), 10)).toBe(1173551340 % 10);
    expect(partitionForKey(bytes('abc'), 7)).toBe(479470107 % 7);
  });

  it('always lands in range and is stable', () => {
    for (let i = 0; i < 500; i++) {
      const key = bytes(`user-${i}`);
      const p = partitionForKey(key, 12);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(12);
      expect(partitionForKey(key, 12)).toBe(p);
    }
  });

  it('rejects a non-positive partition count', () => {
    expect(() => partitionForKey(bytes('a'), 0)).toThrow(RangeError);
    expect(() => partitionForKey(bytes('a'), 1.5)).toThrow(RangeError);
  });
});
