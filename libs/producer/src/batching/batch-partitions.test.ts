import { Acks } from '@partq/client-core';
import { Batch, entryBytes } from './batch.js';
import { BatchPartitions } from './batch-partitions.js';
import { PendingSend } from './pending-send.js';
import type { OutgoingMessage } from '../message.js';
import { batchTarget } from '../../test/batch-target.js';

function batchOf(messages: OutgoingMessage[], topic = 't'): Batch {
  const batch = new Batch(batchTarget(topic));
  const owner = new PendingSend(messages.length);
  messages.forEach((message, index) => batch.add({ message, owner, index }));
  return batch;
}

const keyless = (): OutgoingMessage => ({ payload: new Uint8Array(1) });
const partitionsOf = (batch: Batch) => batch.entries.map((entry) => entry.message.partitionId);

describe('BatchPartitions moving on with every batch (stickyBytes 0)', () => {
  it('puts every keyless message of a batch on one partition, and the next batch on the next', () => {
    const place = new BatchPartitions(0, 1);
    const batches = [0, 1, 2, 3].map(() => batchOf([keyless(), keyless(), keyless()]));
    for (const batch of batches) place.place(batch, 3);
    expect(batches.map(partitionsOf)).toEqual([
      [1, 1, 1],
      [2, 2, 2],
      [0, 0, 0],
      [1, 1, 1],
    ]);
  });

  it('leaves messages with a key or a partition of their own alone; an empty key counts as none', () => {
    const place = new BatchPartitions(0, 0);
    const batch = batchOf([
      { payload: new Uint8Array(1), key: new Uint8Array([7]) },
      { payload: new Uint8Array(1), partitionId: 4 },
      { payload: new Uint8Array(1), key: new Uint8Array(0) },
      keyless(),
    ]);
    place.place(batch, 5);
    expect(partitionsOf(batch)).toEqual([undefined, 4, 0, 0]);
  });

  it('takes no turn for a batch without keyless messages', () => {
    const place = new BatchPartitions(0, 0);
    place.place(batchOf([{ payload: new Uint8Array(1), partitionId: 2 }]), 3);
    const next = batchOf([keyless()]);
    place.place(next, 3);
    expect(partitionsOf(next)).toEqual([0]);
  });

  it('leaves the choice to the gateway when the partition count is unknown', () => {
    const place = new BatchPartitions(0, 0);
    const batch = batchOf([keyless()]);
    place.place(batch, 0);
    expect(partitionsOf(batch)).toEqual([undefined]);
  });

  it('spreads batches evenly over the partitions over time', () => {
    const place = new BatchPartitions(0);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) {
      const batch = batchOf([keyless()]);
      place.place(batch, 4);
      counts[batch.entries[0]!.message.partitionId!]!++;
    }
    expect(counts).toEqual([100, 100, 100, 100]);
  });
});

describe('BatchPartitions staying on a partition for stickyBytes', () => {
  /** entryBytes of a keyless message of `size` payload bytes. */
  const bytesOf = (size: number) => entryBytes({ payload: new Uint8Array(size) });
  const ofSize = (size: number): OutgoingMessage => ({ payload: new Uint8Array(size) });

  it('keeps a topic on one partition until the bytes placed there reach stickyBytes, then moves on', () => {
    const place = new BatchPartitions(3 * bytesOf(100), 1);
    const batches = [0, 1, 2, 3, 4, 5].map(() => batchOf([ofSize(100)]));
    for (const batch of batches) place.place(batch, 3);
    expect(batches.map(partitionsOf)).toEqual([[1], [1], [1], [2], [2], [2]]);
  });

  it('never splits a batch: the one that crosses the limit stays whole, the next moves on', () => {
    const place = new BatchPartitions(bytesOf(100) + 1, 0);
    const first = batchOf([ofSize(100), ofSize(100), ofSize(100)]);
    const second = batchOf([ofSize(100)]);
    place.place(first, 3);
    place.place(second, 3);
    expect(partitionsOf(first)).toEqual([0, 0, 0]);
    expect(partitionsOf(second)).toEqual([1]);
  });

  it('counts only the keyless messages it placed', () => {
    const place = new BatchPartitions(2 * bytesOf(10), 0);
    const keyed = (): OutgoingMessage => ({ payload: new Uint8Array(10_000), key: new Uint8Array([1]) });
    const batches = [batchOf([keyed(), ofSize(10), keyed()]), batchOf([{ payload: new Uint8Array(10_000), partitionId: 2 }, ofSize(10)]), batchOf([ofSize(10)])];
    for (const batch of batches) place.place(batch, 3);
    expect(batches.map(partitionsOf)).toEqual([
      [undefined, 0, undefined],
      [2, 0],
      [1],
    ]);
  });

  it('keeps a stint per topic', () => {
    const place = new BatchPartitions(2 * bytesOf(1), 0);
    const placed = ['a', 'b', 'a', 'b', 'a'].map((topic) => {
      const batch = batchOf([ofSize(1)], topic);
      place.place(batch, 4);
      return partitionsOf(batch)[0];
    });
    expect(placed).toEqual([0, 1, 0, 1, 2]);
  });

  it('moves on when the topic no longer has its current partition', () => {
    const place = new BatchPartitions(1_000_000, 3);
    const before = batchOf([keyless()]);
    place.place(before, 4);
    const after = batchOf([keyless()]);
    place.place(after, 2);
    expect(partitionsOf(before)).toEqual([3]);
    expect(partitionsOf(after)).toEqual([0]);
  });

  it('gives the partitions equal shares of the bytes over time', () => {
    const place = new BatchPartitions(16 * 1024);
    const bytes = [0, 0, 0];
    for (let i = 0; i < 3 * 16 * 40; i++) {
      const batch = batchOf([ofSize(1000)]);
      place.place(batch, 3);
      bytes[batch.entries[0]!.message.partitionId!]! += 1000;
    }
    expect(Math.max(...bytes) - Math.min(...bytes)).toBeLessThanOrEqual(17_000);
  });
});
