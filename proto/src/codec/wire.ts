import { WireFormatError } from './wire-format-error.js';

/**
 * Protobuf wire-format primitives for the hand-written codecs: varints of safe integers and a
 * reader that checks every length against the end. Only what the codecs here need.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;

/** The empty bytes every codec starts a bytes field at (proto3's default); one shared instance, never written to. */
export const EMPTY_BYTES = new Uint8Array(0);
export const WIRE_FIXED32 = 5;

/** A negative int32 is sign-extended to 64 bits on the wire: always ten bytes. */
const NEGATIVE_VARINT_BYTES = 10;

export function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** Bytes of the varint of a safe integer (a negative one: its 64-bit two's complement). */
export function varintSize(value: number): number {
  if (value < 0) return NEGATIVE_VARINT_BYTES;
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes the varint of a safe integer (negative: its 64-bit two's complement); returns the next position. */
export function writeVarint(buffer: Uint8Array, at: number, value: number): number {
  if (value < 0) {
    let bits = BigInt.asUintN(64, BigInt(value));
    for (let i = 0; i < NEGATIVE_VARINT_BYTES - 1; i++) {
      buffer[at++] = Number(bits & 0x7fn) | 0x80;
      bits >>= 7n;
    }
    buffer[at++] = Number(bits);
    return at;
  }
  while (value >= 0x80) {
    buffer[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buffer[at++] = value;
  return at;
}

/** Writes a length-delimited field (tag, length, bytes); returns the next position. */
export function writeBytesField(buffer: Uint8Array, at: number, fieldTag: number, value: Uint8Array): number {
  buffer[at++] = fieldTag;
  at = writeVarint(buffer, at, value.byteLength);
  buffer.set(value, at);
  return at + value.byteLength;
}

/** Writes a varint field (one-byte tag, then the value); returns the next position. */
export function writeVarintField(buffer: Uint8Array, at: number, fieldTag: number, value: number): number {
  buffer[at++] = fieldTag;
  return writeVarint(buffer, at, value);
}

/** Size of a varint field with a one-byte tag. */
export function varintFieldSize(value: number): number {
  return 1 + varintSize(value);
}

/** A record's sequence as a number: a non-negative safe integer, else a RangeError (the readers refuse anything else). */
export function sequenceNumber(sequence: number | bigint | undefined): number | undefined {
  if (sequence === undefined) return undefined;
  const value = Number(sequence);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`record sequence ${sequence} is not a non-negative safe integer`);
  return value;
}

/** Size of a length-delimited field with a one-byte tag. */
export function bytesFieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** Reads fields from `bytes[start, end)`; every read is bounds-checked and throws WireFormatError. */
export class WireReader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    public end = bytes.length,
  ) {
    this.pos = start;
  }

  /** Reads bytes [start, end) of the same buffer next: one reader for many small messages, not one each. */
  reset(start: number, end: number): this {
    this.pos = start;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint that must be a non-negative safe integer (uint64, int64 or a tag). */
  uint(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    let value = 0;
    let scale = 1;
    // Eight bytes carry 56 bits: beyond that the value cannot be a safe integer.
    for (let i = 0; i < 8; i++) {
      if (pos >= this.end) throw new WireFormatError('MALFORMED', 'truncated varint');
      const byte = bytes[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) break;
        this.pos = pos;
        return value;
      }
      scale *= 128;
    }
    throw new WireFormatError('OUT_OF_RANGE', `varint at ${this.pos} is not a non-negative safe integer`);
  }

  /** A field's tag (field number << 3 | wire type); field number 0 and numbers past 2^29 do not exist. */
  tag(): number {
    const at = this.pos;
    const value = this.uint();
    if (value < 8 || value > 0xffffffff) throw new WireFormatError('MALFORMED', `invalid field tag ${value} at ${at}`);
    return value;
  }

  /** A varint read as int32: its low 32 bits, signed (negative values take ten bytes). */
  int32(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    let value = 0;
    for (let i = 0; i < NEGATIVE_VARINT_BYTES; i++) {
      if (pos >= this.end) throw new WireFormatError('MALFORMED', 'truncated varint');
      const byte = bytes[pos++]!;
      if (i < 5) value |= (byte & 0x7f) << (7 * i);
      if (byte < 0x80) {
        this.pos = pos;
        return value | 0;
      }
    }
    throw new WireFormatError('MALFORMED', `varint at ${this.pos} is longer than ten bytes`);
  }

  /** The extent of a length-delimited value: [start, end) in `bytes`; moves past it. */
  lengthDelimited(): number {
    const length = this.uint();
    const start = this.pos;
    if (length > this.end - start) throw new WireFormatError('MALFORMED', `length ${length} at ${start} runs past the end`);
    this.pos = start + length;
    return start;
  }

  /** A length-delimited value as a view into `bytes` (no copy). */
  bytesView(): Uint8Array {
    const start = this.lengthDelimited();
    return this.bytes.subarray(start, this.pos);
  }

  /** Skips an unknown field's value (protobuf readers ignore fields they do not know). */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.int32();
        return;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new WireFormatError('MALFORMED', `unsupported wire type ${wireType} at ${this.pos}`);
    }
  }

  private advance(count: number): void {
    if (count > this.end - this.pos) throw new WireFormatError('MALFORMED', 'truncated fixed-size value');
    this.pos += count;
  }
}

/** The field a known tag must carry: a wrong wire type is malformed. */
export function expectWireType(fieldTag: number, wireType: number, what: string): void {
  if ((fieldTag & 7) !== wireType) throw new WireFormatError('MALFORMED', `${what} has wire type ${fieldTag & 7}, expected ${wireType}`);
}
