import type { RecordBatchIndex } from '@partq/proto';

/**
 * A stretch of one producer's records in a stored run: offsets and sequences both rising by one
 * from the first. A broker taking a partition over learns the producers' committed sequences from
 * these (record_batches.sequences), without reading the records' bytes.
 */
export interface SequenceRun {
  producerId: number;
  firstSequence: number;
  firstOffset: number;
  count: number;
}

/** One run in record_batches.sequences, big-endian: producer id (int4), first sequence (int8), first offset (int8), count (int4). */
export const SEQUENCE_RUN_BYTES = 24;

/** The sequence runs of records first..last (inclusive) of an indexed batch, in offset order; records without a sequence are left out. */
export function sequenceRunsOf(index: RecordBatchIndex, first: number, last: number): SequenceRun[] {
  const runs: SequenceRun[] = [];
  let run: SequenceRun | undefined;
  for (let i = first; i <= last; i++) {
    const sequence = index.sequences[i];
    if (sequence === undefined) {
      run = undefined;
      continue;
    }
    const producerId = index.producerIds[i]!;
    const offset = index.offsets[i]!;
    if (run && run.producerId === producerId && run.firstSequence + run.count === sequence && run.firstOffset + run.count === offset) {
      run.count++;
    } else {
      run = { producerId, firstSequence: sequence, firstOffset: offset, count: 1 };
      runs.push(run);
    }
  }
  return runs;
}

export function encodeSequenceRuns(runs: readonly SequenceRun[]): Buffer {
  const bytes = Buffer.allocUnsafe(runs.length * SEQUENCE_RUN_BYTES);
  let at = 0;
  for (const run of runs) {
    bytes.writeInt32BE(run.producerId, at);
    bytes.writeBigInt64BE(BigInt(run.firstSequence), at + 4);
    bytes.writeBigInt64BE(BigInt(run.firstOffset), at + 12);
    bytes.writeInt32BE(run.count, at + 20);
    at += SEQUENCE_RUN_BYTES;
  }
  return bytes;
}

/** Reads record_batches.sequences; a length that is not a whole number of runs throws a RangeError. */
export function decodeSequenceRuns(bytes: Uint8Array): SequenceRun[] {
  if (bytes.byteLength % SEQUENCE_RUN_BYTES !== 0) throw new RangeError(`sequence runs of ${bytes.byteLength} bytes: not a multiple of ${SEQUENCE_RUN_BYTES}`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const runs: SequenceRun[] = [];
  for (let at = 0; at < view.byteLength; at += SEQUENCE_RUN_BYTES) {
    runs.push({
      producerId: view.readInt32BE(at),
      firstSequence: Number(view.readBigInt64BE(at + 4)),
      firstOffset: Number(view.readBigInt64BE(at + 12)),
      count: view.readInt32BE(at + 20),
    });
  }
  return runs;
}
