import { partitionForKey } from '@partq/client-core';
import type { OutgoingMessage } from '../message.js';
import type { Registration } from '../registrations.js';
import type { Batch } from './batch.js';

/** The last message a registration sent to a partition, and the batch it went in. */
interface Link {
  sequence: number;
  batch: Batch;
}

/**
 * Per-partition order with several batches in flight, the way Kafka's idempotent producer keeps it.
 * When a batch is first sent, its first message for each partition names the sequence of the
 * message this producer sent to that partition before it (`previousSequence`); the broker refuses
 * it (SEQUENCE_GAP, retried like an unreachable broker) until that one is stored. So a batch that
 * overtook an earlier one, because the earlier one failed an attempt and is being retried, goes
 * again until the earlier one landed, and lands after it.
 *
 * A predecessor that will never land (its batch failed for good, or was acknowledged under
 * acks=broker by a broker lost before the manager synced it) would hold the chain up forever. A
 * batch that failed an attempt therefore drops its links (`unlink`) and goes again once every batch
 * sent before it has settled: nothing sent earlier can land after it then.
 */
export class PartitionChains {
  /** Per registration: partition → the last message sent to it. */
  private readonly last = new WeakMap<Registration, Map<number, Link>>();
  /** Per registration: its batches sent and not settled, in the order they were first sent. */
  private readonly unsettled = new WeakMap<Registration, Set<Batch>>();

  /** Links a batch about to be sent for the first time into its partitions' chains. Its messages must carry their sequences. */
  link(batch: Batch): void {
    const { registration } = batch.target;
    this.unsettledOf(registration).add(batch);
    let last = this.last.get(registration);
    if (!last) this.last.set(registration, (last = new Map()));
    // The batch's last sequence per partition. Most batches hold one partition (keyless messages
    // stick to one), so a run of messages to the same partition touches no map.
    const lastInBatch = new Map<number, number>();
    let current: number | undefined;
    let currentSequence = 0;
    for (const { message } of batch.entries) {
      const partition = partitionOf(message, batch.target.partitionCount, registration.partition);
      if (partition === undefined || message.sequence === undefined) {
        message.previousSequence = undefined;
        continue;
      }
      if (partition === current) {
        message.previousSequence = undefined;
      } else {
        if (current !== undefined) lastInBatch.set(current, currentSequence);
        message.previousSequence = lastInBatch.has(partition) ? undefined : last.get(partition)?.sequence;
        current = partition;
      }
      currentSequence = message.sequence;
    }
    if (current !== undefined) lastInBatch.set(current, currentSequence);
    for (const [partition, sequence] of lastInBatch) last.set(partition, { sequence, batch });
  }

  /** Whether every batch of the registration sent before this one has settled. */
  isOldestUnsettled(batch: Batch): boolean {
    for (const oldest of this.unsettledOf(batch.target.registration)) return oldest === batch;
    return true;
  }

  /** Whether any message of the batch names a predecessor. */
  isLinked(batch: Batch): boolean {
    return batch.entries.some(({ message }) => message.previousSequence !== undefined);
  }

  /** Sends the batch's messages without a predecessor from now on (the caller encodes it again). */
  unlink(batch: Batch): void {
    for (const { message } of batch.entries) message.previousSequence = undefined;
  }

  /**
   * The batch settled. A failed one may never have landed: the next batch to each partition whose
   * chain ends in it starts a new chain instead of waiting for it.
   */
  settled(batch: Batch, landed: boolean): void {
    const { registration } = batch.target;
    this.unsettled.get(registration)?.delete(batch);
    if (landed) return;
    const last = this.last.get(registration);
    if (!last) return;
    for (const [partition, link] of last) if (link.batch === batch) last.delete(partition);
  }

  /**
   * The batch moves to another registration (its producer id expired; its messages took new
   * sequences): it leaves the old one's chains and is sent under the new one with no predecessor,
   * the new registration's later batches following it.
   */
  moved(batch: Batch, from: Registration): void {
    this.unsettled.get(from)?.delete(batch);
    const last = this.last.get(from);
    if (last) for (const [partition, link] of last) if (link.batch === batch) last.delete(partition);
    this.link(batch);
    this.unlink(batch);
  }

  private unsettledOf(registration: Registration): Set<Batch> {
    let batches = this.unsettled.get(registration);
    if (!batches) this.unsettled.set(registration, (batches = new Set()));
    return batches;
  }
}

/**
 * The partition the gateway will put the message on, as far as the producer can know it: the
 * registration's own partition, the message's, or its key's hash (the gateway's function); a
 * keyless message has been placed by BatchPartitions when the partition count is known.
 */
function partitionOf(message: OutgoingMessage, partitionCount: number | undefined, registered: number | undefined): number | undefined {
  if (registered !== undefined) return registered;
  if (message.partitionId !== undefined) return message.partitionId;
  if (message.key !== undefined && message.key.byteLength > 0 && partitionCount !== undefined && Number.isSafeInteger(partitionCount) && partitionCount > 0) {
    return partitionForKey(message.key, partitionCount);
  }
  return undefined;
}
