/**
 * 32-bit MurmurHash2 exactly as Kafka's Java client computes it (`Utils.murmur2`), so a key lands
 * on the same partition number here as it would with a Kafka producer for the same partition count.
 * Returns a signed 32-bit integer, like Java's `int`.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;

  let h = (seed ^ length) | 0;
  const length4 = length >>> 2;

  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    // Bytes are read little-endian; `!` is safe because i4 + 3 < length.
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }

  // The tail: Java's switch falls through from 3 to 2 to 1.
  const tail = length4 * 4;
  const remaining = length & 3;
  if (remaining === 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (remaining >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (remaining >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }

  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's key partitioner: the positive part of the hash modulo the partition count. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  assertPartitionCount(partitionCount);
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}

export function assertPartitionCount(partitionCount: number): void {
  if (!Number.isSafeInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partition count must be a positive integer, got ${partitionCount}`);
  }
}
