import { COPY_BINARY_SIGNATURE as SIGNATURE } from '@partq/schema';
import { firstFieldOfCopyRows } from './copy-binary-rows.js';

/** Binary COPY output: the header (with `extension` bytes), the rows (null: a NULL field), the trailer. */
function copyOutput(rows: (string | null)[][], extension = Buffer.alloc(0)): Buffer {
  const parts = [SIGNATURE, int32(0), int32(extension.length), extension];
  for (const row of rows) {
    parts.push(int16(row.length));
    for (const field of row) parts.push(...(field === null ? [int32(-1)] : [int32(Buffer.byteLength(field)), Buffer.from(field)]));
  }
  parts.push(int16(-1));
  return Buffer.concat(parts);
}

function int16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

const texts = (fields: Buffer[]) => fields.map((field) => field.toString());

describe('firstFieldOfCopyRows', () => {
  it('returns the first field of each row, skipping a header extension, the other fields and NULLs', () => {
    const data = copyOutput([['a', 'x'], [null, 'y'], ['', 'z'], ['bcd']], Buffer.from('ext'));
    expect(texts(firstFieldOfCopyRows(data))).toEqual(['a', '', 'bcd']);
    expect(firstFieldOfCopyRows(copyOutput([]))).toEqual([]);
  });

  it('returns views of the output, not copies', () => {
    const data = copyOutput([['abc']]);
    const [field] = firstFieldOfCopyRows(data);
    expect(field!.buffer).toBe(data.buffer);
  });

  it('refuses output without the signature, or cut inside a row, with INTERNAL', () => {
    const whole = copyOutput([['abc']]);
    for (const bad of [Buffer.from('not a copy'), whole.subarray(0, whole.length - 4), whole.subarray(0, whole.length - 2)]) {
      expect(() => firstFieldOfCopyRows(bad)).toThrow(expect.objectContaining({ code: 'INTERNAL' }) as unknown as Error);
    }
  });
});
