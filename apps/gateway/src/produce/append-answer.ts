import type { AppendResponse } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import type { CoalescedAnswer } from './append-coalescer.js';

/**
 * Turns a broker's compact answer (the base offset of the written records, plus the duplicates with
 * their original offsets) into an offset and a duplicate flag per record of the request, in order.
 */
export function expandAppendResponse(response: AppendResponse, recordCount: number): CoalescedAnswer {
  const duplicateAt = new Map<number, bigint>();
  for (const duplicate of response.duplicates) {
    if (duplicate.index < 0 || duplicate.index >= recordCount || duplicateAt.has(duplicate.index)) {
      throw new PartqError('INTERNAL', `the broker named duplicate record ${duplicate.index} of an append of ${recordCount}`);
    }
    duplicateAt.set(duplicate.index, duplicate.offset);
  }
  const offsets = new Array<bigint>(recordCount);
  const duplicates = new Array<boolean>(recordCount);
  let next = response.baseOffset;
  for (let i = 0; i < recordCount; i++) {
    const original = duplicateAt.get(i);
    duplicates[i] = original !== undefined;
    if (original !== undefined) offsets[i] = original;
    else offsets[i] = next++;
  }
  return { offsets, duplicates };
}
