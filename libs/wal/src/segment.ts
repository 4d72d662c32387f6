import { open, rm, type FileHandle } from 'node:fs/promises';
import { FrameScanner } from './frame-scanner.js';
import { segmentPath } from './segment-file-name.js';
import { SparseIndex } from './sparse-index.js';
import { WalError } from './wal-error.js';

/** One index entry per this many bytes of frames. */
export const INDEX_INTERVAL_BYTES = 4096;
/** Chunk size for reads of records that are no longer in the tail cache. */
const READ_CHUNK_BYTES = 64 * 1024;

/** The active segment's open file, shared by the writer and reads; closed when the last user lets go. */
interface SharedFile {
  readonly file: FileHandle;
  users: number;
  released: boolean;
}

/**
 * One segment file: the records [baseOffset, endOffset) in `size` bytes, all of them fsync'd.
 * Only the active (last) segment keeps its file open; older ones open a handle per read, so a log with
 * thousands of segments does not hold thousands of descriptors.
 */
export class Segment {
  readonly path: string;
  readonly index = new SparseIndex(INDEX_INTERVAL_BYTES);
  /**
   * End of the zeros the writer put ahead of the records (see preallocation.ts); nothing past `size`
   * when it is not greater. Zeros never count as records: reads stop at `size`.
   */
  preparedEnd = 0;
  private shared: SharedFile | undefined;

  constructor(
    dir: string,
    readonly baseOffset: number,
    public endOffset: number,
    public size: number,
  ) {
    this.path = segmentPath(dir, baseOffset);
  }

  /** Creates an empty segment file (replacing any stale file of that name) and keeps it open for writing. */
  static async create(dir: string, baseOffset: number): Promise<Segment> {
    const segment = new Segment(dir, baseOffset, baseOffset, 0);
    segment.shared = { file: await open(segment.path, 'w+'), users: 0, released: false };
    return segment;
  }

  get records(): number {
    return this.endOffset - this.baseOffset;
  }

  /** The open file of the active segment (opened on first use). Only the single writer calls this. */
  async writableFile(): Promise<FileHandle> {
    this.shared ??= { file: await open(this.path, 'r+'), users: 0, released: false };
    return this.shared.file;
  }

  /** Records that a fsync'd frame of `offset` lies at `position`. */
  noteDurableFrame(offset: number, position: number, frameBytes: number): void {
    this.index.noteFrame(offset, position);
    this.endOffset = offset + 1;
    this.size = position + frameBytes;
  }

  /**
   * Reads records from `fromOffset` (inside this segment) up to `untilOffset` in order, handing each to `take`
   * until it answers false or the segment ends. Returns the offset of the first record not taken.
   */
  async read(
    fromOffset: number,
    untilOffset: number,
    take: (offset: number, payload: Buffer) => boolean,
  ): Promise<number> {
    // Snapshot: appends may extend the active segment while this read awaits the disk.
    const endOffset = Math.min(this.endOffset, untilOffset);
    const size = this.size;
    return this.withFile(async (file) => {
      const scanner = await this.seek(file, fromOffset, size);
      let offset = fromOffset;
      while (offset < endOffset) {
        const step = scanner.next();
        if (step.kind === 'need-io') {
          await scanner.fill();
          continue;
        }
        if (step.kind !== 'frame' || step.offset !== offset) throw this.corrupt(offset, scanner.position);
        if (!take(offset, step.payload)) break;
        offset++;
      }
      return offset;
    });
  }

  /** Byte position of the frame of `offset` (the segment size for `endOffset`). */
  async positionOf(offset: number): Promise<number> {
    if (offset >= this.endOffset) return this.size;
    const size = this.size;
    return this.withFile(async (file) => (await this.seek(file, offset, size)).position);
  }

  /** Cuts the file before the frame of `offset`; the caller syncs it. */
  async truncateFrom(offset: number): Promise<void> {
    const position = await this.positionOf(offset);
    const file = await this.writableFile();
    await file.truncate(position);
    this.index.truncateFrom(offset);
    this.endOffset = offset;
    this.size = position;
    this.preparedEnd = position;
  }

  /**
   * Cuts the zeros ahead of the records off the file, once it is no longer written to (rolled, or
   * the log closed). Unsynced: should the cut be lost, recovery finds the zeros and cuts them then.
   */
  async dropPrepared(): Promise<void> {
    if (this.preparedEnd <= this.size || !this.shared) return;
    await this.shared.file.truncate(this.size);
    this.preparedEnd = this.size;
  }

  /** Lets go of the open file (a segment stops being the active one); a read still using it closes it. */
  async close(): Promise<void> {
    const shared = this.shared;
    this.shared = undefined;
    if (!shared) return;
    shared.released = true;
    if (shared.users === 0) await shared.file.close();
  }

  /** Closes and removes the file. */
  async delete(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }

  private async withFile<T>(work: (file: FileHandle) => Promise<T>): Promise<T> {
    const shared = this.shared;
    if (shared) {
      shared.users++;
      try {
        return await work(shared.file);
      } finally {
        shared.users--;
        if (shared.released && shared.users === 0) await shared.file.close().catch(() => undefined);
      }
    }
    const file = await open(this.path, 'r');
    try {
      return await work(file);
    } finally {
      await file.close();
    }
  }

  /** A scanner positioned at the frame of `offset`, reached from the nearest index entry before it. */
  private async seek(file: FileHandle, offset: number, size: number): Promise<FrameScanner> {
    const start = this.index.floor(offset) ?? { offset: this.baseOffset, position: 0 };
    const scanner = new FrameScanner(file, start.position, size, READ_CHUNK_BYTES);
    let skipped = start.offset;
    while (skipped < offset) {
      const step = scanner.next();
      if (step.kind === 'need-io') {
        await scanner.fill();
        continue;
      }
      // Every frame below the durable size was fsync'd whole: anything else there is corruption.
      if (step.kind !== 'frame' || step.offset !== skipped) throw this.corrupt(skipped, scanner.position);
      skipped++;
    }
    return scanner;
  }

  private corrupt(offset: number, position: number): WalError {
    return new WalError('CORRUPT', `segment ${this.path}: record ${offset} at byte ${position} is damaged`);
  }
}
