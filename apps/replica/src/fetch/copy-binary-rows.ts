import { PartqError } from '@partq/runtime';
import { COPY_BINARY_HEADER_BYTES as HEADER_BYTES, COPY_BINARY_SIGNATURE as SIGNATURE } from '@partq/schema';

/**
 * The first field of every row of `COPY … TO STDOUT (FORMAT binary)` output, as views of `data`
 * (PostgreSQL's binary format: a header, then per row an int16 field count and per field an int32
 * length, -1 for NULL, and the bytes; a field count of -1 ends it). A NULL first field is skipped.
 */
export function firstFieldOfCopyRows(data: Buffer): Buffer[] {
  if (data.length < HEADER_BYTES || !data.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw malformed('it does not start with the binary COPY signature');
  }
  let at = HEADER_BYTES + data.readInt32BE(SIGNATURE.length + 4);
  const fields: Buffer[] = [];
  for (;;) {
    need(data, at, 2);
    const count = data.readInt16BE(at);
    at += 2;
    if (count === -1) return fields;
    for (let field = 0; field < count; field++) {
      need(data, at, 4);
      const length = data.readInt32BE(at);
      at += 4;
      if (length === -1) continue;
      need(data, at, length);
      if (field === 0) fields.push(data.subarray(at, at + length));
      at += length;
    }
  }
}

function need(data: Buffer, at: number, bytes: number): void {
  if (at + bytes > data.length) throw malformed(`it ends at byte ${data.length}, inside a row`);
}

function malformed(why: string): PartqError {
  return new PartqError('INTERNAL', `PostgreSQL's binary COPY output could not be read: ${why}`);
}
