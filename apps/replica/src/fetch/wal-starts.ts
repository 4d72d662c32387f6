import type { Partition } from '@partq/proto';
import type { PartqError } from '@partq/runtime';
import { cacheKey } from './partition-reader.js';

interface WalStart {
  epoch: number;
  address: string;
  offset: number;
}

/**
 * Where each partition's owning broker keeps its WAL from, as the broker's last answers said (a
 * Fetch or Tail answer, or OFFSET_OUT_OF_RANGE's `walStartOffset`). Below it the records are only in
 * PostgreSQL: asking the broker again would get OFFSET_OUT_OF_RANGE, an error answer that costs the
 * broker more than a read, once per consume of a consumer reading a backlog. A broker only trims its
 * WAL forward, so within one owner and epoch the highest start seen holds.
 */
export class WalStarts {
  private readonly starts = new Map<string, WalStart>();

  /** Notes the WAL start `address` reported for the partition (under the partition's epoch). */
  note(partition: Partition, address: string, offset: number): void {
    if (!Number.isFinite(offset)) return;
    const key = cacheKey(partition);
    const known = this.starts.get(key);
    if (known && known.epoch === partition.epoch && known.address === address && known.offset >= offset) return;
    this.starts.set(key, { epoch: partition.epoch, address, offset });
  }

  /**
   * Notes the WAL start a broker's OFFSET_OUT_OF_RANGE refusal reports (`details.walStartOffset`) and
   * returns it; NaN when the failure is another one or says nothing of the start.
   */
  noteRefusal(partition: Partition, address: string, failure: PartqError): number {
    if (failure.code !== 'OFFSET_OUT_OF_RANGE') return Number.NaN;
    const offset = Number((failure.details as { walStartOffset?: unknown } | undefined)?.walStartOffset);
    this.note(partition, address, offset);
    return offset;
  }

  /** Whether `offset` is known to lie below the WAL of the partition's broker at `address` (read PostgreSQL). */
  below(partition: Partition, address: string, offset: number): boolean {
    const known = this.starts.get(cacheKey(partition));
    return known !== undefined && known.epoch === partition.epoch && known.address === address && offset < known.offset;
  }
}
