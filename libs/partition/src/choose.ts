import { assertPartitionCount, partitionForKey } from './hash.js';

export interface PartitionChoice {
  partitionCount: number;
  /** A partition the producer named itself. */
  explicit?: number;
  /** Message key; an empty key counts as no key (protobuf cannot tell empty bytes from absent ones). */
  key?: Uint8Array;
  /** Idempotent producer sequence number of the message. */
  sequence?: number;
  /**
   * The position for a message nothing else places (any integer; taken modulo the count). The
   * gateway keeps a topic on one partition for a while: see apps/gateway/src/produce/sticky-partitions.ts.
   */
  roundRobin: () => number;
}

/**
 * Picks the partition for one message, in this order:
 * 1. the explicit partition (out of range is a RangeError; callers validate first and report their own error);
 * 2. the key hash (Kafka-compatible, see `partitionForKey`);
 * 3. `sequence % partitionCount`, so that a retried idempotent produce with no partition and no key
 *    lands on the same partition as its first attempt and is de-duplicated there;
 * 4. the caller's round robin.
 */
export function choosePartition(input: PartitionChoice): number {
  const { partitionCount, explicit, key, sequence } = input;
  assertPartitionCount(partitionCount);

  if (explicit !== undefined) {
    if (!Number.isInteger(explicit) || explicit < 0 || explicit >= partitionCount) {
      throw new RangeError(`partition ${explicit} is out of range: the topic has ${partitionCount} partition(s)`);
    }
    return explicit;
  }
  if (key !== undefined && key.length > 0) {
    return partitionForKey(key, partitionCount);
  }
  if (sequence !== undefined) {
    if (!Number.isSafeInteger(sequence) || sequence < 0) {
      throw new RangeError(`producer sequence must be a non-negative integer, got ${sequence}`);
    }
    return sequence % partitionCount;
  }
  return positiveModulo(input.roundRobin(), partitionCount);
}

function positiveModulo(value: number, n: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`round-robin position must be finite, got ${value}`);
  const v = Math.trunc(value) % n;
  return v < 0 ? v + n : v;
}
