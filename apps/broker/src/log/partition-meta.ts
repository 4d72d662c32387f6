import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../durable-file.js';

export const PARTITION_META_FILE = 'partition.json';
const DIR_NAME = /^(\d+)-(\d+)$/;

/** What a partition directory remembers besides its WAL: the epoch it was last owned at. */
export interface PartitionMeta {
  topicId: number;
  partitionId: number;
  epoch: number;
}

/** `<topicId>-<partitionId>`: the directory of one partition under `<dataDir>/partitions`. */
export function partitionDirName(topicId: number, partitionId: number): string {
  return `${topicId}-${partitionId}`;
}

export function parsePartitionDirName(name: string): { topicId: number; partitionId: number } | undefined {
  const match = DIR_NAME.exec(name);
  if (!match) return undefined;
  const topicId = Number(match[1]);
  const partitionId = Number(match[2]);
  if (!Number.isSafeInteger(topicId) || !Number.isSafeInteger(partitionId)) return undefined;
  return { topicId, partitionId };
}

/** The stored meta, or undefined when the file is missing (a crash between creating the WAL and this file). */
export async function readPartitionMeta(dir: string): Promise<PartitionMeta | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, PARTITION_META_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<PartitionMeta>;
  if (typeof parsed.epoch !== 'number' || typeof parsed.topicId !== 'number' || typeof parsed.partitionId !== 'number') {
    throw new Error(`malformed ${PARTITION_META_FILE} in ${dir}`);
  }
  return { topicId: parsed.topicId, partitionId: parsed.partitionId, epoch: parsed.epoch };
}

/** Replaces the file atomically and durably (a crash leaves the old or the new epoch, never half of one). */
export async function writePartitionMeta(dir: string, meta: PartitionMeta): Promise<void> {
  await writeFileDurably(join(dir, PARTITION_META_FILE), `${JSON.stringify(meta)}\n`);
}
