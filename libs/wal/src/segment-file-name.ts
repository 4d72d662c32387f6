import { join } from 'node:path';

const SEGMENT_FILE = /^(\d{20})\.log$/;

/** Segment files are named by their base offset, zero-padded to 20 digits so that names sort like offsets. */
export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log`;
}

export function segmentPath(dir: string, baseOffset: number): string {
  return join(dir, segmentFileName(baseOffset));
}

/** The base offset a segment file name encodes, or undefined for any other file. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_FILE.exec(name);
  if (!match) return undefined;
  const baseOffset = Number(match[1]);
  return Number.isSafeInteger(baseOffset) ? baseOffset : undefined;
}
