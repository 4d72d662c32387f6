import type { FileHandle } from 'node:fs/promises';
import { writeSync } from 'node:fs';

/**
 * Zeros written ahead of the records, so that most group commits overwrite blocks the file already
 * has. An fdatasync after a write that grows a file must also commit the file's new size and
 * blocks through the file system's journal; after an overwrite it flushes the data alone. Measured
 * on this project's VM (ext4), three writers each syncing 4 KiB at a time: p50 0.50 → 0.36 ms and
 * ~25 % less CPU per sync. PostgreSQL zero-fills its WAL segments for the same reason.
 *
 * Only small group commits get a lead: a commit of hundreds of kilobytes pays the journal once for
 * all of them, and zeros ahead of it would double what it writes. The lead grows with the commits
 * (a few dozen of them), from 16 KiB: on disk, a log per partition costs a quiet partition that
 * took a small write 16-20 KiB of zeros (~0.5 GB over 30 000 such partitions), until its segment
 * rolls or the log closes.
 */

/** Zeros end on a page boundary. */
const PAGE_BYTES = 4096;
/** The least and most a lead covers. */
export const MIN_LEAD_BYTES = 16 * 1024;
export const MAX_LEAD_BYTES = 1024 * 1024;
/** A lead holds about this many commits of the size that asked for it. */
const LEAD_COMMITS = 32;
/** The zeros are extended once fewer than this many such commits still fit. */
const LOW_WATER_COMMITS = 8;
/** Commits at least this large get no zeros. */
export const LARGE_COMMIT_BYTES = 256 * 1024;

/**
 * Where the zeros should end after a commit of `commitBytes` that wrote up to `dataEnd`, given that
 * zeros (or records) already reach `preparedEnd`; `preparedEnd` itself when nothing is to be written.
 * Never past `segmentBytes`: the log rolls to a new segment there.
 */
export function preallocationEnd(dataEnd: number, preparedEnd: number, commitBytes: number, segmentBytes: number): number {
  if (commitBytes <= 0 || commitBytes >= LARGE_COMMIT_BYTES) return preparedEnd;
  if (preparedEnd - dataEnd >= LOW_WATER_COMMITS * commitBytes) return preparedEnd;
  const lead = Math.min(MAX_LEAD_BYTES, Math.max(MIN_LEAD_BYTES, LEAD_COMMITS * commitBytes));
  const end = Math.min(segmentBytes, Math.ceil((dataEnd + lead) / PAGE_BYTES) * PAGE_BYTES);
  return end > Math.max(dataEnd, preparedEnd) ? end : preparedEnd;
}

let zeros: Buffer | undefined;

/**
 * Writes zeros over [from, to) of `file` on this thread (into the page cache, like the records;
 * the commit's fdatasync makes them durable). Never written to, so one buffer serves every log.
 */
export function writeZeros(file: FileHandle, from: number, to: number): void {
  zeros ??= Buffer.alloc(MAX_LEAD_BYTES);
  let position = from;
  while (position < to) position += writeSync(file.fd, zeros, 0, Math.min(zeros.length, to - position), position);
}
