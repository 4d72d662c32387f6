/** Accounted per cached record on top of its payload, so many tiny records also stay within the budget. */
const ENTRY_OVERHEAD_BYTES = 48;
const INITIAL_CAPACITY = 1024;

/**
 * The most recent records, contiguous up to the durable end of the log, within a byte budget.
 * Reads at the tail (consumers keeping up) are served from here without touching the disk.
 *
 * A record is kept as three numbers in typed arrays (which buffer, where in it, how long), not as a
 * view object: a full 8 MiB budget of 100 B records is ~50 000 records per partition, and as objects
 * they lived in the old generation, ~100 bytes each, where every full GC traced them. The WAL writes
 * a group commit's records into one buffer, so most records share one: `get` makes the view.
 */
export class TailCache {
  /** The buffers cached records lie in, oldest first; `chunks[chunkHead]` has the id `firstChunkId`. */
  private chunks: (Buffer | undefined)[] = [];
  private chunkHead = 0;
  private firstChunkId = 0;
  private nextChunkId = 0;
  /** The memory of the newest chunk: a record lying in it joins that chunk. */
  private newestMemory: ArrayBufferLike | undefined;
  /** A ring of records, the oldest at `head`: its chunk's id, where it starts in that chunk, its length. */
  private chunkIds = new Float64Array(INITIAL_CAPACITY);
  private starts = new Uint32Array(INITIAL_CAPACITY);
  private lengths = new Uint32Array(INITIAL_CAPACITY);
  private head = 0;
  private count = 0;
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
    return this.first + this.count;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Adds the record at the end; `offset` must be `endOffset` (anything else restarts the cache there). */
  append(offset: number, data: Uint8Array): void {
    if (offset !== this.endOffset) this.reset(offset);
    if (this.count === this.lengths.length) this.grow();
    const slot = this.slot(this.count++);
    this.chunkIds[slot] = this.chunkIdOf(data);
    this.starts[slot] = data.byteOffset;
    this.lengths[slot] = data.byteLength;
    this.bytes += data.byteLength + ENTRY_OVERHEAD_BYTES;
    while (this.bytes > this.maxBytes && this.count > 0) this.evictOldest();
    this.dropUnusedChunks();
  }

  get(offset: number): Uint8Array | undefined {
    if (offset < this.first || offset >= this.endOffset) return undefined;
    const slot = this.slot(offset - this.first);
    const start = this.starts[slot]!;
    return this.chunks[this.chunkHead + this.chunkIds[slot]! - this.firstChunkId]!.subarray(start, start + this.lengths[slot]!);
  }

  /** Drops the records at offsets >= `offset`. */
  truncateFrom(offset: number): void {
    if (offset <= this.first) {
      this.reset(offset);
      return;
    }
    while (this.endOffset > offset) this.bytes -= this.lengths[this.slot(--this.count)]! + ENTRY_OVERHEAD_BYTES;
    if (this.count === 0) return;
    // Chunks after the newest remaining record's are unused now.
    const newestUsed = this.chunkIds[this.slot(this.count - 1)]!;
    while (this.nextChunkId - 1 > newestUsed) {
      this.chunks.pop();
      this.nextChunkId--;
    }
    this.newestMemory = this.chunks[this.chunks.length - 1]?.buffer;
  }

  /** Drops the records at offsets < `offset`. */
  dropBefore(offset: number): void {
    const end = this.endOffset;
    if (offset >= end) {
      this.reset(end);
      return;
    }
    while (this.first < offset) this.evictOldest();
    this.dropUnusedChunks();
  }

  /** Empties the cache; the next record expected is `offset`. */
  reset(offset: number): void {
    this.chunks = [];
    this.chunkHead = 0;
    this.firstChunkId = this.nextChunkId = 0;
    this.newestMemory = undefined;
    this.head = 0;
    this.count = 0;
    this.first = offset;
    this.bytes = 0;
  }

  /** Where the record `index` places after the oldest lives in the ring (its capacity is a power of two). */
  private slot(index: number): number {
    return (this.head + index) & (this.lengths.length - 1);
  }

  private grow(): void {
    const capacity = this.lengths.length * 2;
    const chunkIds = new Float64Array(capacity);
    const starts = new Uint32Array(capacity);
    const lengths = new Uint32Array(capacity);
    for (let i = 0; i < this.count; i++) {
      const slot = this.slot(i);
      chunkIds[i] = this.chunkIds[slot]!;
      starts[i] = this.starts[slot]!;
      lengths[i] = this.lengths[slot]!;
    }
    this.chunkIds = chunkIds;
    this.starts = starts;
    this.lengths = lengths;
    this.head = 0;
  }

  /** The id of the chunk `data` lies in: the newest one when it shares its memory, else a new one. */
  private chunkIdOf(data: Uint8Array): number {
    // newestMemory is unset whenever no chunk is left, so a record never joins a dropped one.
    if (data.buffer !== this.newestMemory) {
      this.chunks.push(Buffer.from(data.buffer));
      this.newestMemory = data.buffer;
      this.nextChunkId++;
    }
    return this.nextChunkId - 1;
  }

  private evictOldest(): void {
    this.bytes -= this.lengths[this.head]! + ENTRY_OVERHEAD_BYTES;
    this.head = this.slot(1);
    this.count--;
    this.first++;
  }

  /** Lets go of the chunks older than the oldest record's, and reclaims their slots now and then. */
  private dropUnusedChunks(): void {
    const oldestUsed = this.count > 0 ? this.chunkIds[this.head]! : this.nextChunkId;
    while (this.firstChunkId < oldestUsed) {
      this.chunks[this.chunkHead++] = undefined;
      this.firstChunkId++;
    }
    if (this.firstChunkId === this.nextChunkId) this.newestMemory = undefined;
    if (this.chunkHead > 64 && this.chunkHead * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.chunkHead);
      this.chunkHead = 0;
    }
  }
}
