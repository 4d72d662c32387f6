/** Accounted per cached record on top of its payload, so many tiny records also stay within the budget. */
const ENTRY_OVERHEAD_BYTES = 48;

/**
 * The most recent records, contiguous up to the durable end of the log, within a byte budget.
 * Reads at the tail (consumers keeping up) are served from here without touching the disk.
 */
export class TailCache {
  private entries: Uint8Array[] = [];
  private head = 0;
  private first: number;
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    startOffset: number,
  ) {
    this.first = startOffset;
  }

  /** First cached offset; equals `endOffset` when the cache is empty. */
  get startOffset(): number {
    return this.first;
  }

  get endOffset(): number {
    return this.first + this.entries.length - this.head;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Adds the record at the end; `offset` must be `endOffset` (anything else restarts the cache there). */
  append(offset: number, data: Uint8Array): void {
    if (offset !== this.endOffset) this.reset(offset);
    this.entries.push(data);
    this.bytes += data.byteLength + ENTRY_OVERHEAD_BYTES;
    while (this.bytes > this.maxBytes && this.head < this.entries.length) this.evictOldest();
    this.compact();
  }

  get(offset: number): Uint8Array | undefined {
    if (offset < this.first || offset >= this.endOffset) return undefined;
    return this.entries[this.head + offset - this.first];
  }

  /** Drops the records at offsets >= `offset`. */
  truncateFrom(offset: number): void {
    if (offset <= this.first) {
      this.reset(offset);
      return;
    }
    while (this.endOffset > offset) {
      const dropped = this.entries.pop()!;
      this.bytes -= dropped.byteLength + ENTRY_OVERHEAD_BYTES;
    }
  }

  /** Drops the records at offsets < `offset`. */
  dropBefore(offset: number): void {
    const end = this.endOffset;
    if (offset >= end) {
      this.reset(end);
      return;
    }
    while (this.first < offset) this.evictOldest();
    this.compact();
  }

  /** Empties the cache; the next record expected is `offset`. */
  reset(offset: number): void {
    this.entries = [];
    this.head = 0;
    this.first = offset;
    this.bytes = 0;
  }

  private evictOldest(): void {
    const evicted = this.entries[this.head]!;
    this.entries[this.head] = EMPTY;
    this.head++;
    this.first++;
    this.bytes -= evicted.byteLength + ENTRY_OVERHEAD_BYTES;
  }

  /** Reclaims evicted slots once they make up half of the array, keeping eviction O(1) amortised. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
