import { crc32 } from 'node:zlib';

/**
 * On-disk frame: [payload length u32][crc32 u32][offset high u32][offset low u32][payload], big-endian.
 * The CRC covers the offset and the payload (bytes 8 .. end), so a frame from another place or another
 * incarnation of the log cannot pass as the expected record.
 */
export const FRAME_HEADER_BYTES = 16;
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

const TWO_POW_32 = 0x1_0000_0000;

export type FrameProblem = 'bad-length' | 'crc-mismatch';

export type DecodeResult =
  | { kind: 'frame'; offset: number; payloadStart: number; frameBytes: number }
  | { kind: 'incomplete'; needBytes: number }
  | { kind: 'invalid'; problem: FrameProblem };

export function frameBytesFor(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes;
}

/** Writes one frame into `target` at `at` and returns its length in bytes. */
export function encodeFrame(target: Buffer, at: number, offset: number, payload: Uint8Array): number {
  target.set(payload, at + FRAME_HEADER_BYTES);
  return sealFrame(target, at, offset, payload.byteLength);
}

/**
 * Writes the header of the frame whose payload of `payloadBytes` already lies at `at` +
 * FRAME_HEADER_BYTES in `target`; returns the frame's length in bytes.
 */
export function sealFrame(target: Buffer, at: number, offset: number, payloadBytes: number): number {
  target.writeUInt32BE(payloadBytes, at);
  target.writeUInt32BE(Math.floor(offset / TWO_POW_32), at + 8);
  target.writeUInt32BE(offset % TWO_POW_32, at + 12);
  const end = at + FRAME_HEADER_BYTES + payloadBytes;
  target.writeUInt32BE(crc32(target.subarray(at + 8, end)), at + 4);
  return FRAME_HEADER_BYTES + payloadBytes;
}

/**
 * Decodes the frame starting at `at` in `buffer`. `incomplete` says how many bytes (from `at`) are needed
 * before the frame can be judged; the caller decides whether more bytes exist (torn tail) or must be read.
 */
export function decodeFrame(buffer: Buffer, at: number): DecodeResult {
  const available = buffer.length - at;
  if (available < FRAME_HEADER_BYTES) return { kind: 'incomplete', needBytes: FRAME_HEADER_BYTES };
  const payloadBytes = buffer.readUInt32BE(at);
  if (payloadBytes > MAX_RECORD_BYTES) return { kind: 'invalid', problem: 'bad-length' };
  const frameBytes = FRAME_HEADER_BYTES + payloadBytes;
  if (available < frameBytes) return { kind: 'incomplete', needBytes: frameBytes };
  const expectedCrc = buffer.readUInt32BE(at + 4);
  if (crc32(buffer.subarray(at + 8, at + frameBytes)) !== expectedCrc) {
    return { kind: 'invalid', problem: 'crc-mismatch' };
  }
  const offset = buffer.readUInt32BE(at + 8) * TWO_POW_32 + buffer.readUInt32BE(at + 12);
  return { kind: 'frame', offset, payloadStart: at + FRAME_HEADER_BYTES, frameBytes };
}
