import { Acks } from '@partq/client-core';
import { Batch } from './batch.js';
import { BatchPartitions } from './batch-partitions.js';
import { PendingSend } from './pending-send.js';
import type { OutgoingMessage } from '../message.js';

function batchOf(messages: OutgoingMessage[]): Batch {
  const batch = new Batch({ topic: 't', producerId: 1, acks: Acks.UNSPECIFIED });
  const owner = new PendingSend(messages.length);
  messages.forEach((message, index) => batch.add({ message, owner, index }));
  return batch;
}

const keyless = (): OutgoingMessage => ({ payload: new Uint8Array(1) });
const partitionsOf = (batch: Batch) => batch.entries.map((entry) => entry.message.partitionId);

describe('BatchPartitions', () => {
  it('puts every keyless message of a batch on one partition, and the next batch on the next', () => {
    const place = new BatchPartitions(1);
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
    const place = new BatchPartitions(0);
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
    const place = new BatchPartitions(0);
    place.place(batchOf([{ payload: new Uint8Array(1), partitionId: 2 }]), 3);
    const next = batchOf([keyless()]);
    place.place(next, 3);
    expect(partitionsOf(next)).toEqual([0]);
  });

  it('leaves the choice to the gateway when the partition count is unknown', () => {
    const place = new BatchPartitions(0);
    const batch = batchOf([keyless()]);
    place.place(batch, 0);
    expect(partitionsOf(batch)).toEqual([undefined]);
  });

  it('spreads batches evenly over the partitions over time', () => {
    const place = new BatchPartitions();
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) {
      const batch = batchOf([keyless()]);
      place.place(batch, 4);
      counts[batch.entries[0]!.message.partitionId!]!++;
    }
    expect(counts).toEqual([100, 100, 100, 100]);
  });
});
