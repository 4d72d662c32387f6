import type { Acks } from '@partq/client-core';
import type { ProducerError } from '../errors/producer-error.js';
import type { OutgoingMessage } from '../message.js';
import type { Registration } from '../registrations.js';
import type { PendingSend } from './pending-send.js';
import type { SendResult } from './send-result.js';

/** Bytes a message adds to a Send request beyond its payload and key (field tags, lengths, sequence). */
export const MESSAGE_OVERHEAD_BYTES = 24;

/** What a batch goes to: all its messages share topic, producer id and acks, so they fit one Send. */
export interface BatchTarget {
  topic: string;
  producerId: number;
  acks: Acks;
  /** The registration the producer id came from. */
  registration: Registration;
  /** The topic's partitions, over which batches of keyless messages take turns; unset when the producer id is for one partition. */
  partitionCount?: number;
}

/** One message in a batch, with the sequence it got and the send() call waiting for it. */
export interface BatchEntry {
  message: OutgoingMessage;
  owner: PendingSend;
  /** Position of the message in its send() call. */
  index: number;
}

export function entryBytes(message: OutgoingMessage): number {
  return message.payload.byteLength + (message.key?.byteLength ?? 0) + MESSAGE_OVERHEAD_BYTES;
}

export function batchKey(target: BatchTarget): string {
  return `${target.topic}\u0000${target.producerId}\u0000${target.acks}`;
}

/** Messages that will travel in one Send RPC. */
export class Batch {
  readonly entries: BatchEntry[] = [];
  bytes = 0;
  /** Set once the batch went on the wire: from then on its messages (and sequences) are fixed, unless it is retargeted. */
  sent = false;

  constructor(public target: BatchTarget) {}

  /**
   * Moves a batch that never landed (its producer id was unknown to the cluster) to another
   * registration's target, its messages taking that registration's next sequences.
   */
  retarget(target: BatchTarget, sequenced: boolean): void {
    this.target = target;
    if (sequenced) for (const entry of this.entries) entry.message.sequence = target.registration.sequences.take();
  }

  get count(): number {
    return this.entries.length;
  }

  add(entry: BatchEntry): void {
    this.entries.push(entry);
    this.bytes += entryBytes(entry.message);
  }

  /** Takes out the messages of an aborted send() before the batch is sent; returns how many. */
  withdraw(owner: PendingSend): number {
    if (this.sent) return 0;
    let removed = 0;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]!;
      if (entry.owner !== owner) continue;
      this.entries.splice(i, 1);
      this.bytes -= entryBytes(entry.message);
      removed++;
    }
    return removed;
  }

  succeed(results: readonly SendResult[]): void {
    this.entries.forEach((entry, i) => entry.owner.complete(entry.index, results[i]!));
  }

  fail(error: ProducerError): void {
    for (const entry of this.entries) entry.owner.fail(error);
  }
}
