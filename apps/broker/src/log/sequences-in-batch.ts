import type { RecordFields } from '@partq/proto';

/**
 * The sequences already taken from one Append request, to tell a sequence repeated within it.
 *
 * Why not a Map of every sequence: a request's sequences almost always ascend per producer, and a
 * sequence above the producer's highest so far cannot be a repeat. Only the first one that does not
 * ascend builds the Map (from the records taken so far), so the usual request costs a comparison per
 * record instead of a Map lookup and insert.
 */
export class SequencesInBatch {
  /** producer id -> the highest sequence taken so far, for producers other than the current one. */
  private readonly highest = new Map<number, number>();
  /** The producer of the latest record taken, and its highest sequence: most requests hold one producer. */
  private current: number | undefined;
  private currentHighest = Number.NEGATIVE_INFINITY;
  /** producer id -> sequence -> index among the records taken; built on the first sequence that does not ascend. */
  private taken: Map<number, Map<number, number>> | undefined;

  /** The index (among `fresh`, the records taken so far) of this producer's `sequence`, if it was taken. */
  indexOf(producerId: number, sequence: number, fresh: readonly RecordFields[]): number | undefined {
    const highest = producerId === this.current ? this.currentHighest : this.highest.get(producerId);
    if (highest === undefined || sequence > highest) return undefined;
    this.taken ??= indexTaken(fresh);
    return this.taken.get(producerId)?.get(sequence);
  }

  /** Notes that this producer's `sequence` was taken as `fresh[index]`. */
  add(producerId: number, sequence: number, index: number): void {
    if (producerId !== this.current) {
      if (this.current !== undefined) this.highest.set(this.current, this.currentHighest);
      this.current = producerId;
      this.currentHighest = this.highest.get(producerId) ?? Number.NEGATIVE_INFINITY;
    }
    if (sequence > this.currentHighest) this.currentHighest = sequence;
    if (this.taken) {
      let producer = this.taken.get(producerId);
      if (!producer) this.taken.set(producerId, (producer = new Map()));
      producer.set(sequence, index);
    }
  }
}

function indexTaken(fresh: readonly RecordFields[]): Map<number, Map<number, number>> {
  const taken = new Map<number, Map<number, number>>();
  fresh.forEach((record, index) => {
    if (record.sequence === undefined) return;
    let producer = taken.get(record.producerId);
    if (!producer) taken.set(record.producerId, (producer = new Map()));
    producer.set(Number(record.sequence), index);
  });
  return taken;
}
