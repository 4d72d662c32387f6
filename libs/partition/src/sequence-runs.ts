/**
 * A stretch of one producer's records in a partition: offsets and sequences both rising by one from
 * the first. How producers' sequences are stored where the records' bytes are not wanted: beside the
 * committed records in PostgreSQL (record_batches.sequences, which a broker taking a partition over
 * reads), and in a broker's snapshot of the sequences its WAL no longer holds.
 */
export interface SequenceRun {
  producerId: number;
  firstSequence: number;
  firstOffset: number;
  count: number;
}

/** One encoded run, big-endian: producer id (int4), first sequence (int8), first offset (int8), count (int4). */
export const SEQUENCE_RUN_BYTES = 24;

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

/** Reads encoded runs; a length that is not a whole number of runs throws a RangeError. */
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
