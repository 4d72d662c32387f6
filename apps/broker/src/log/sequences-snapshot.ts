import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSequenceRuns, encodeSequenceRuns, type SequenceRun } from '@partq/partition';
import { writeFileDurably } from '../durable-file.js';

/**
 * The producer sequences of records a partition's WAL no longer holds (trimmed once the manager
 * committed them), as sequence runs. Why: a restarted broker rebuilds its idempotence index from
 * its WAL, and a WAL trimmed to nothing left it knowing no sequence at all, so a producer's retry of
 * a batch that had landed (its answer lost to a crash) was appended a second time.
 */
export const SEQUENCES_SNAPSHOT_FILE = 'sequences.bin';

/** The runs saved in `dir`, none when there is no snapshot; a damaged file throws a RangeError. */
export async function readSequencesSnapshot(dir: string): Promise<SequenceRun[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, SEQUENCES_SNAPSHOT_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return decodeSequenceRuns(bytes);
}

/** Replaces the snapshot atomically and durably: after a crash it holds the old runs or the new ones. */
export async function writeSequencesSnapshot(dir: string, runs: readonly SequenceRun[]): Promise<void> {
  await writeFileDurably(join(dir, SEQUENCES_SNAPSHOT_FILE), encodeSequenceRuns(runs));
}
