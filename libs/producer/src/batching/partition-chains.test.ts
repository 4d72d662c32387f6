import { partitionForKey } from '@partq/client-core';
import type { OutgoingMessage } from '../message.js';
import { SequenceCounter } from '../sequence.js';
import { batchTarget } from '../../test/batch-target.js';
import { Batch, type BatchTarget } from './batch.js';
import { PartitionChains } from './partition-chains.js';
import { PendingSend } from './pending-send.js';

/** A batch of messages with sequences taken from the target's registration, as the producer builds them. */
function batchOf(target: BatchTarget, messages: Omit<OutgoingMessage, 'payload' | 'sequence'>[]): Batch {
  const batch = new Batch(target);
  const owner = new PendingSend(messages.length);
  messages.forEach((message, index) =>
    batch.add({ message: { payload: new Uint8Array(1), ...message, sequence: target.registration.sequences.take() }, owner, index }),
  );
  return batch;
}

const previousOf = (batch: Batch) => batch.entries.map((entry) => entry.message.previousSequence);
const key = (text: string) => new TextEncoder().encode(text);

describe('PartitionChains', () => {
  const target = (partitionCount = 3): BatchTarget => {
    const base = batchTarget();
    return { ...base, partitionCount, registration: { ...base.registration, partitionCount } };
  };

  it('links the first message of each partition in a batch to the last one sent there, runs and returns included', () => {
    const chains = new PartitionChains();
    const t = target();
    const one = batchOf(t, [{ partitionId: 0 }, { partitionId: 0 }, { partitionId: 1 }, { partitionId: 0 }]); // sequences 0-3
    const two = batchOf(t, [{ partitionId: 1 }, { partitionId: 2 }, { partitionId: 0 }, { partitionId: 1 }]); // sequences 4-7
    chains.link(one);
    chains.link(two);
    expect(previousOf(one)).toEqual([undefined, undefined, undefined, undefined]);
    expect(previousOf(two)).toEqual([2, undefined, 3, undefined]);
  });

  it('places keyed messages with the gateway\'s key hash, and leaves messages of no known partition unlinked', () => {
    const chains = new PartitionChains();
    const t = target(8);
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5'];
    chains.link(batchOf(t, keys.map((k) => ({ key: key(k) }))));
    const again = batchOf(t, [...keys.map((k) => ({ key: key(k) })), {}]);
    chains.link(again);
    // Each key's predecessor is the message of the first batch that went to the same partition last.
    const lastSequenceOf = new Map<number, number>();
    keys.forEach((k, i) => lastSequenceOf.set(partitionForKey(key(k), 8), i));
    const firstOfPartition = new Set<number>();
    const expected = keys.map((k) => {
      const partition = partitionForKey(key(k), 8);
      if (firstOfPartition.has(partition)) return undefined;
      firstOfPartition.add(partition);
      return lastSequenceOf.get(partition);
    });
    expect(previousOf(again)).toEqual([...expected, undefined]);
  });

  it('follows the registration\'s own partition when it has one', () => {
    const chains = new PartitionChains();
    const base = batchTarget();
    const pinned: BatchTarget = { ...base, registration: { ...base.registration, partition: 2 } };
    const one = batchOf(pinned, [{ key: key('x') }]);
    const two = batchOf(pinned, [{ key: key('y') }]);
    chains.link(one);
    chains.link(two);
    expect(previousOf(two)).toEqual([0]);
  });

  it('knows which batch is the oldest unsettled one of its registration', () => {
    const chains = new PartitionChains();
    const t = target();
    const other = target();
    const [a, b, c] = [0, 1, 2].map(() => batchOf(t, [{ partitionId: 0 }]));
    const elsewhere = batchOf(other, [{ partitionId: 0 }]);
    [a!, b!, c!, elsewhere].forEach((batch) => chains.link(batch));
    expect([a, b, c].map((batch) => chains.isOldestUnsettled(batch!))).toEqual([true, false, false]);
    expect(chains.isOldestUnsettled(elsewhere)).toBe(true);
    chains.settled(b!, true);
    chains.settled(a!, true);
    expect(chains.isOldestUnsettled(c!)).toBe(true);
  });

  it('starts a new chain after a batch that failed: the next batch to its partitions names no predecessor', () => {
    const chains = new PartitionChains();
    const t = target();
    const landed = batchOf(t, [{ partitionId: 0 }, { partitionId: 1 }]);
    const failed = batchOf(t, [{ partitionId: 1 }]);
    chains.link(landed);
    chains.link(failed);
    chains.settled(landed, true);
    chains.settled(failed, false);
    const next = batchOf(t, [{ partitionId: 0 }, { partitionId: 1 }]);
    chains.link(next);
    expect(previousOf(next)).toEqual([0, undefined]);
    expect(chains.isLinked(next)).toBe(true);
    chains.unlink(next);
    expect(previousOf(next)).toEqual([undefined, undefined]);
    expect(chains.isLinked(next)).toBe(false);
  });

  it('moves a batch to a new registration unlinked, the new registration\'s next batch following it', () => {
    const chains = new PartitionChains();
    const old = target();
    const batch = batchOf(old, [{ partitionId: 0 }]);
    const earlier = batchOf(old, [{ partitionId: 0 }]);
    chains.link(earlier);
    chains.link(batch);
    const renewed: BatchTarget = { ...target(), producerId: 2, registration: { ...old.registration, producerId: 2, sequences: new SequenceCounter() } };
    batch.retarget(renewed, true);
    chains.moved(batch, old.registration);
    expect(previousOf(batch)).toEqual([undefined]);
    expect(chains.isOldestUnsettled(batch)).toBe(true);
    const next = batchOf(renewed, [{ partitionId: 0 }]);
    chains.link(next);
    expect(previousOf(next)).toEqual([0]);
    // The old registration's chain no longer ends in the batch that left it (nor waits for it).
    const oldNext = batchOf(old, [{ partitionId: 0 }]);
    chains.link(oldNext);
    expect(previousOf(oldNext)).toEqual([undefined]);
  });
});
