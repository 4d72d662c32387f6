import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { FrameScanner } from './frame-scanner.js';
import { fsyncDirectory } from './fs-sync.js';
import { Segment } from './segment.js';
import { parseSegmentFileName } from './segment-file-name.js';

export type RecoveryReason = 'torn-tail' | 'crc-mismatch' | 'bad-length' | 'unexpected-offset';

export interface RecoveryReport {
  /** Segment files kept. */
  segments: number;
  /** Records kept. */
  records: number;
  /** Bytes cut from the damaged segment plus the size of every later segment deleted. */
  truncatedBytes: number;
  /** Why the log ended early; absent after a clean shutdown or a crash between whole frames. */
  reason?: RecoveryReason;
}

export interface RecoveryOptions {
  dir: string;
  baseOffset: number;
  fsync: boolean;
  logger?: { warn(obj: object, msg: string): void };
}

/** Recovery reads whole files front to back; large chunks keep the number of reads low. */
const RECOVERY_CHUNK_BYTES = 1024 * 1024;

/**
 * Scans every segment in offset order and checks each frame: whole, sane length, CRC, and the offset that
 * follows the previous one (across segment boundaries too). The first frame that fails ends the log: its
 * segment is cut there and every later segment is deleted, so the log is always a gap-free prefix of what
 * was written. Zeros after the last frame are the writer's preallocated space and are cut without a
 * report. An empty directory starts a log at `baseOffset`; otherwise the file names decide.
 */
export async function recoverSegments(
  options: RecoveryOptions,
): Promise<{ segments: Segment[]; report: RecoveryReport }> {
  const { dir } = options;
  await mkdir(dir, { recursive: true });
  const baseOffsets = (await readdir(dir))
    .map(parseSegmentFileName)
    .filter((offset): offset is number => offset !== undefined)
    .sort((a, b) => a - b);

  if (baseOffsets.length === 0) {
    const segment = await Segment.create(dir, options.baseOffset);
    if (options.fsync) await fsyncDirectory(dir);
    return { segments: [segment], report: { segments: 1, records: 0, truncatedBytes: 0 } };
  }

  const kept: Segment[] = [];
  let truncatedBytes = 0;
  let damage: { reason: RecoveryReason; segment: string; position: number } | undefined;
  let expectedBase = baseOffsets[0]!;

  for (const baseOffset of baseOffsets) {
    const segment = new Segment(dir, baseOffset, baseOffset, 0);
    const fileBytes = (await stat(segment.path)).size;
    if (damage || baseOffset !== expectedBase) {
      damage ??= { reason: 'unexpected-offset', segment: segment.path, position: 0 };
      truncatedBytes += fileBytes;
      await rm(segment.path, { force: true });
      continue;
    }
    const problem = await scanSegment(segment, fileBytes);
    if (problem) {
      // Zeros alone after the last frame are the writer's space ahead of its records
      // (preallocation.ts), not damage: cut quietly, with no sync (a lost cut is found again).
      const preallocated = await zeroFilled(segment.path, segment.size, fileBytes);
      if (!preallocated) {
        damage = { reason: problem, segment: segment.path, position: segment.size };
        truncatedBytes += fileBytes - segment.size;
      }
      await cutFile(segment.path, segment.size, options.fsync && !preallocated);
    }
    kept.push(segment);
    expectedBase = segment.endOffset;
  }

  const records = kept.reduce((sum, segment) => sum + segment.records, 0);
  const report: RecoveryReport = { segments: kept.length, records, truncatedBytes };
  if (damage) {
    report.reason = damage.reason;
    if (options.fsync) await fsyncDirectory(dir);
    options.logger?.warn(
      { dir, ...damage, truncatedBytes, endOffset: expectedBase },
      `wal: log ended early (${damage.reason}); cut ${truncatedBytes} bytes`,
    );
  }
  return { segments: kept, report };
}

/**
 * Walks one segment's frames, filling its index, end offset and size with the valid prefix.
 * Returns what stopped it before the end of the file, if anything.
 */
async function scanSegment(segment: Segment, fileBytes: number): Promise<RecoveryReason | undefined> {
  const file = await open(segment.path, 'r');
  try {
    const scanner = new FrameScanner(file, 0, fileBytes, RECOVERY_CHUNK_BYTES);
    let expected = segment.baseOffset;
    for (;;) {
      const step = scanner.next();
      switch (step.kind) {
        case 'need-io':
          await scanner.fill();
          break;
        case 'end':
          return undefined;
        case 'invalid':
          return step.problem;
        case 'frame':
          if (step.offset !== expected) return 'unexpected-offset';
          segment.noteDurableFrame(step.offset, step.position, step.frameBytes);
          expected++;
          break;
      }
    }
  } finally {
    await file.close();
  }
}

/** Cuts the file at `size`, syncing the cut when asked. */
async function cutFile(path: string, size: number, sync: boolean): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.truncate(size);
    if (sync) await file.datasync();
  } finally {
    await file.close();
  }
}

/** Whether every byte of the file from `from` to `to` is zero. */
async function zeroFilled(path: string, from: number, to: number): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(Math.min(RECOVERY_CHUNK_BYTES, Math.max(1, to - from)));
    for (let position = from; position < to; ) {
      const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, to - position), position);
      if (bytesRead === 0) return true;
      for (let i = 0; i < bytesRead; i++) if (chunk[i] !== 0) return false;
      position += bytesRead;
    }
    return true;
  } finally {
    await file.close();
  }
}
