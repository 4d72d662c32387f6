import type { SequenceRun } from '@partq/partition';
import type { RecordBatchIndex } from '@partq/proto';

/**
 * The sequence runs of records first..last (inclusive) of an indexed batch, in offset order; records without a sequence are left out.
 * Stored as record_batches.sequences: a broker taking a partition over learns the producers'
 * committed sequences from them, without reading the records' bytes.
 */
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
