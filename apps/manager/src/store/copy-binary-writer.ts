import { COPY_BINARY_HEADER_BYTES as HEADER_BYTES, COPY_BINARY_SIGNATURE as SIGNATURE } from '@partq/schema';

const TWO_TO_32 = 2 ** 32;
/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z), where timestamps count from. */
const POSTGRES_EPOCH_MICROS = 946_684_800_000_000;
/** Byte strings at least this long go to the stream as they are (a chunk of their own) instead of being copied. */
const OWN_CHUNK_BYTES = 64 * 1024;

/**
 * Rows in PostgreSQL's binary COPY format (COPY ... FROM STDIN (FORMAT binary)), written field by
 * field in the table's column order and cut into chunks of about `chunkBytes` for the COPY stream,
 * so a sync of any size never needs one buffer (or one bytea) holding all of it.
 */
export class CopyBinaryWriter {
  private readonly chunks: Buffer[] = [];
  private buffer: Buffer;
  private at = 0;
  private finished = false;
  private readonly chunkBytes: number;
  rows = 0;

  /**
   * `chunkBytes`: about how large each chunk is (1 MiB by default). `expectedBytes`: about how much
   * will be written, when known. The first chunk is no larger than that: a sync of one small record
   * must not take a fresh 1 MiB buffer, whose external memory alone sets V8's garbage collector
   * going after a few hundred of them.
   */
  constructor(options: { chunkBytes?: number; expectedBytes?: number } = {}) {
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024;
    const expected = options.expectedBytes ?? this.chunkBytes;
    this.buffer = Buffer.allocUnsafe(Math.max(Math.min(this.chunkBytes, expected + HEADER_BYTES + 2), HEADER_BYTES));
    SIGNATURE.copy(this.buffer, 0);
    this.buffer.writeInt32BE(0, SIGNATURE.length);
    this.buffer.writeInt32BE(0, SIGNATURE.length + 4);
    this.at = HEADER_BYTES;
  }

  /** Starts a row of `fields` fields; exactly that many field writes must follow. */
  row(fields: number): this {
    this.room(2);
    this.buffer.writeInt16BE(fields, this.at);
    this.at += 2;
    this.rows++;
    return this;
  }

  int4(value: number): this {
    this.room(8);
    this.buffer.writeInt32BE(4, this.at);
    this.buffer.writeInt32BE(value, this.at + 4);
    this.at += 8;
    return this;
  }

  /** An int8 from a safe integer (JS numbers carry 53 bits; larger values throw a RangeError). */
  int8(value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    this.room(12);
    this.buffer.writeInt32BE(8, this.at);
    const high = Math.floor(value / TWO_TO_32);
    this.buffer.writeInt32BE(high, this.at + 4);
    this.buffer.writeUInt32BE(value - high * TWO_TO_32, this.at + 8);
    this.at += 12;
    return this;
  }

  /** A timestamptz at the millisecond. */
  timestampMs(ms: number): this {
    return this.int8(ms * 1000 - POSTGRES_EPOCH_MICROS);
  }

  bytea(value: Uint8Array): this {
    this.room(4);
    this.buffer.writeInt32BE(value.byteLength, this.at);
    this.at += 4;
    if (value.byteLength >= OWN_CHUNK_BYTES) {
      this.cut();
      this.chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      return this;
    }
    this.room(value.byteLength);
    this.buffer.set(value, this.at);
    this.at += value.byteLength;
    return this;
  }

  null(): this {
    this.room(4);
    this.buffer.writeInt32BE(-1, this.at);
    this.at += 4;
    return this;
  }

  /** Ends the stream (its trailer) and hands out its chunks, in order. */
  finish(): Buffer[] {
    this.room(2);
    this.buffer.writeInt16BE(-1, this.at);
    this.at += 2;
    this.cut();
    this.finished = true;
    return this.chunks;
  }

  /** Makes sure `bytes` more fit in the current chunk, starting a new one when they do not. */
  private room(bytes: number): void {
    if (this.finished) throw new Error('the COPY stream is finished already');
    if (this.at + bytes <= this.buffer.length) return;
    this.cut();
    this.buffer = Buffer.allocUnsafe(Math.max(this.chunkBytes, bytes));
  }

  /** Closes the current chunk (what was written of it). */
  private cut(): void {
    if (this.at > 0) this.chunks.push(this.buffer.subarray(0, this.at));
    this.buffer = this.buffer.subarray(this.at);
    this.at = 0;
  }
}
