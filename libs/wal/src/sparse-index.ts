/**
 * Sparse offset -> file position index of one segment: one entry per `intervalBytes` of frames, kept in
 * growable typed arrays, so memory is ~16 bytes per interval (a 64 MiB segment with 4 KiB intervals costs
 * 256 KiB) however small the records are. A lookup lands on the nearest earlier entry and the reader scans
 * forward from there.
 */
export class SparseIndex {
  private offsets = new Float64Array(64);
  private positions = new Float64Array(64);
  private count = 0;

  constructor(private readonly intervalBytes: number) {}

  get entries(): number {
    return this.count;
  }

  /** Records the frame of `offset` at `position` if it starts a new interval. Frames arrive in order. */
  noteFrame(offset: number, position: number): void {
    if (this.count > 0 && position - this.positions[this.count - 1]! < this.intervalBytes) return;
    if (this.count === this.offsets.length) this.grow();
    this.offsets[this.count] = offset;
    this.positions[this.count] = position;
    this.count++;
  }

  /** The last entry at or before `offset`, or undefined when `offset` precedes every entry. */
  floor(offset: number): { offset: number; position: number } | undefined {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.offsets[middle]! <= offset) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? undefined : { offset: this.offsets[found]!, position: this.positions[found]! };
  }

  /** Forgets entries for offsets >= `offset`. */
  truncateFrom(offset: number): void {
    while (this.count > 0 && this.offsets[this.count - 1]! >= offset) this.count--;
  }

  private grow(): void {
    const offsets = new Float64Array(this.offsets.length * 2);
    const positions = new Float64Array(this.positions.length * 2);
    offsets.set(this.offsets);
    positions.set(this.positions);
    this.offsets = offsets;
    this.positions = positions;
  }
}
