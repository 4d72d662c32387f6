/**
 * Offset arithmetic for one partition. Offsets are plain numbers (safe integers: 2^53 messages is
 * beyond any partition's life). The log holds offsets [logStart, endOffset): `endOffset` is the offset
 * the next appended message will get, `logStart` the lowest offset still retained.
 */

/** Where a new consumer starts reading. */
export type StartPosition = 'latest' | 'earliest';

/** Messages a consumer has still to read: end - next, never negative (a position may be ahead after truncation). */
export function pendingCount(nextOffset: number, endOffset: number): number {
  assertOffset('nextOffset', nextOffset);
  assertOffset('endOffset', endOffset);
  return Math.max(0, endOffset - nextOffset);
}

/**
 * The lowest offset that must still be kept: the lowest `next_offset` among the consumers subscribed
 * to the partition, clamped to [logStart, endOffset]. Everything below it has been read by every
 * subscriber and may be deleted.
 *
 * With no subscribed consumer the answer is `endOffset`: nobody can ever read the retained messages
 * (a new consumer starts at the end of the log, see `startOffset`), so all of them may go. Topics
 * that must keep messages for future consumers use a time or size limit instead.
 */
export function retentionStart(logStart: number, positions: readonly number[], endOffset: number): number {
  assertRange(logStart, endOffset);
  let lowest = endOffset;
  for (const position of positions) {
    assertOffset('position', position);
    if (position < lowest) lowest = position;
  }
  return Math.max(logStart, lowest);
}

/** Messages that retention lets go now: those in [logStart, retentionStart). */
export function deletableCount(logStart: number, retentionStartOffset: number): number {
  assertOffset('logStart', logStart);
  assertOffset('retentionStart', retentionStartOffset);
  return Math.max(0, retentionStartOffset - logStart);
}

/** The first offset a newly subscribed consumer reads. */
export function startOffset(start: StartPosition, logStart: number, endOffset: number): number {
  assertRange(logStart, endOffset);
  return start === 'earliest' ? logStart : endOffset;
}

/** True when `offset` names a message that is still in the log. */
export function isRetained(offset: number, logStart: number, endOffset: number): boolean {
  assertRange(logStart, endOffset);
  return Number.isSafeInteger(offset) && offset >= logStart && offset < endOffset;
}

/**
 * True when a fetch from `offset` is valid: a retained message, or exactly the end of the log
 * (the usual "wait for the next message" position). Anything else is OFFSET_OUT_OF_RANGE.
 */
export function isFetchable(offset: number, logStart: number, endOffset: number): boolean {
  assertRange(logStart, endOffset);
  return Number.isSafeInteger(offset) && offset >= logStart && offset <= endOffset;
}

function assertRange(logStart: number, endOffset: number): void {
  assertOffset('logStart', logStart);
  assertOffset('endOffset', endOffset);
  if (logStart > endOffset) throw new RangeError(`logStart ${logStart} is beyond endOffset ${endOffset}`);
}

function assertOffset(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}
