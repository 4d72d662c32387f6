import type { FileHandle } from 'node:fs/promises';
import { decodeFrame, FRAME_HEADER_BYTES, type FrameProblem } from './frame.js';

export type ScanStep =
  | { kind: 'frame'; offset: number; position: number; frameBytes: number; payload: Buffer }
  | { kind: 'need-io' }
  | { kind: 'end' }
  | { kind: 'invalid'; problem: FrameProblem | 'torn-tail'; position: number };

const NEED_IO: ScanStep = { kind: 'need-io' };
const END: ScanStep = { kind: 'end' };

/**
 * Walks the frames of one segment file from a known frame boundary up to `limit` bytes, reading the file in
 * chunks. `next()` is synchronous while the chunk holds the next frame and answers `need-io` otherwise
 * (then call `fill()`), so a scan over millions of small frames costs no promise per frame.
 * Payload views point into the chunk buffer; each chunk is a fresh allocation, so views stay valid.
 */
export class FrameScanner {
  private buffer: Buffer = Buffer.alloc(0);
  private bufferStart = 0;
  private needBytes = 0;

  constructor(
    private readonly file: FileHandle,
    private currentPosition: number,
    private limit: number,
    private readonly chunkBytes: number,
  ) {}

  /** File position of the next frame (after an `invalid` step: of the frame that was rejected). */
  get position(): number {
    return this.currentPosition;
  }

  next(): ScanStep {
    const position = this.currentPosition;
    if (position >= this.limit) return END;
    const relative = position - this.bufferStart;
    const decoded =
      relative >= 0 && relative <= this.buffer.length
        ? decodeFrame(this.buffer, relative)
        : ({ kind: 'incomplete', needBytes: FRAME_HEADER_BYTES } as const);
    switch (decoded.kind) {
      case 'incomplete':
        if (position + decoded.needBytes > this.limit) return { kind: 'invalid', problem: 'torn-tail', position };
        this.needBytes = decoded.needBytes;
        return NEED_IO;
      case 'invalid':
        return { kind: 'invalid', problem: decoded.problem, position };
      case 'frame':
        this.currentPosition = position + decoded.frameBytes;
        return {
          kind: 'frame',
          offset: decoded.offset,
          position,
          frameBytes: decoded.frameBytes,
          payload: this.buffer.subarray(decoded.payloadStart, relative + decoded.frameBytes),
        };
    }
  }

  /** Reads the next chunk, large enough for the frame `next()` asked for. */
  async fill(): Promise<void> {
    const position = this.currentPosition;
    const want = Math.min(Math.max(this.needBytes, this.chunkBytes), this.limit - position);
    const chunk = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.file.read(chunk, got, want - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    // A file shorter than expected ends the scan there: the next step reports a torn tail.
    if (got < want) this.limit = position + got;
    this.buffer = got < want ? chunk.subarray(0, got) : chunk;
    this.bufferStart = position;
    this.needBytes = 0;
  }
}
