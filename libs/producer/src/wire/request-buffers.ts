/**
 * Buffers for large Send requests, used again once their Send has landed. A batch of 500 × 1 KiB
 * is a ~520 KB request; written into fresh memory, its payload copies touched every page for the
 * first time (15-17 µs a page on the project's VM: 13 % of this client's time on the pipelined
 * 1 KiB line, docs/performance.md), and the stream of new ArrayBuffers drove V8's collections.
 *
 * A buffer comes back only after a Send answered with success: the gateway had read the whole body
 * by then, so no transport still reads it. A failed or abandoned attempt's buffer is left to the
 * garbage collector, since its body may still sit in a transport's queue.
 */

/** Smaller requests come from Node's shared pool (under 4 KiB) or are cheap to allocate. */
export const POOLED_MIN_BYTES = 64 * 1024;
/** Idle buffers kept at most: a producer done with a burst holds no more than this many. */
const DEFAULT_MAX_IDLE = 4;

export class RequestBuffers {
  private readonly idle: Buffer[] = [];
  /** Backing stores handed out and not yet given back: nothing else is taken back, nothing twice. */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  constructor(private readonly maxIdle = DEFAULT_MAX_IDLE) {}

  /** `size` bytes to write a request into: a view of an idle buffer large enough, or new memory. */
  take(size: number): Buffer {
    if (size < POOLED_MIN_BYTES) return Buffer.allocUnsafe(size);
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const buffer = this.idle[i]!;
      if (buffer.length < size) continue;
      this.idle.splice(i, 1);
      this.lent.add(buffer.buffer);
      return buffer.subarray(0, size);
    }
    // A size class (a power of two), so that batches of about the same size share their buffers.
    const buffer = Buffer.allocUnsafeSlow(2 ** Math.ceil(Math.log2(size)));
    this.lent.add(buffer.buffer);
    return buffer.subarray(0, size);
  }

  /** Takes back `bytes` (from take()), which nobody reads any more. Anything else is ignored. */
  release(bytes: Uint8Array | undefined): void {
    if (!bytes || !this.lent.delete(bytes.buffer)) return;
    if (this.idle.length < this.maxIdle) this.idle.push(Buffer.from(bytes.buffer));
  }

  /** Lets every idle buffer go (the producer closed). */
  clear(): void {
    this.idle.length = 0;
  }
}
