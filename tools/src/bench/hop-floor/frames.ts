/** Length-prefixed frames (a 4-byte big-endian length, then the body): the hop floor's only wire format. */
export const FRAME_HEADER_BYTES = 4;

/** The frames laid end to end in one buffer, so a hop forwards what it has in one write. */
export function encodeFrames(bodies: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const body of bodies) total += FRAME_HEADER_BYTES + body.byteLength;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const body of bodies) {
    out.writeUInt32BE(body.byteLength, at);
    out.set(body, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + body.byteLength;
  }
  return out;
}

/** Cuts a byte stream back into frames, whatever way its chunks split them. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** The frames completed by this chunk (views into it, or into a copy when a frame spanned chunks). */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let at = 0;
    while (this.pending.length - at >= FRAME_HEADER_BYTES) {
      const length = this.pending.readUInt32BE(at);
      if (this.pending.length - at - FRAME_HEADER_BYTES < length) break;
      frames.push(this.pending.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length));
      at += FRAME_HEADER_BYTES + length;
    }
    this.pending = this.pending.subarray(at);
    return frames;
  }

  /** Bytes of a frame not yet complete. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** An acknowledgement: how many of the oldest unacknowledged messages are now durable. */
export function encodeAck(count: number): Buffer {
  const body = Buffer.allocUnsafe(4);
  body.writeUInt32BE(count, 0);
  return encodeFrames([body]);
}

export function decodeAck(frame: Buffer): number {
  return frame.readUInt32BE(0);
}
