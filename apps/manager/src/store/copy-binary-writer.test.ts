import { useMigratedDatabase } from '../../test/migrated-database.js';
import { CopyBinaryWriter } from './copy-binary-writer.js';
import { copyIn } from './copy-in.js';

const testDb = useMigratedDatabase();

interface Row {
  small: number | null;
  big: string | null;
  bytes: Buffer | null;
  at: Date | null;
}

/** Copies `write`'s rows into a fresh table through a real PostgreSQL and reads them back in order. */
async function roundTrip(name: string, chunkBytes: number, write: (rows: CopyBinaryWriter) => void): Promise<{ rows: Row[]; chunks: Buffer[] }> {
  const client = await testDb.pool.connect();
  try {
    // big as text: pg would read an int8 back as a number, which could hide a wrong high word.
    await client.query(`CREATE TABLE ${name} (n serial, small int4, big int8, bytes bytea, at timestamptz)`);
    const writer = new CopyBinaryWriter({ chunkBytes });
    write(writer);
    const chunks = writer.finish();
    await copyIn(client, `COPY ${name} (small, big, bytes, at) FROM STDIN (FORMAT binary)`, chunks);
    const { rows } = await client.query<Row>(`SELECT small, big::text AS big, bytes, at FROM ${name} ORDER BY n`);
    return { rows, chunks };
  } finally {
    client.release();
  }
}

describe('CopyBinaryWriter', () => {
  test('writes every field kind as PostgreSQL reads it: int4, int8 over the whole safe range, bytea, null, timestamptz', async () => {
    const values = [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 32 + 5, -(2 ** 32) - 5, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    const times = [0, 946_684_800_000, 1_764_000_000_123, -86_400_001];
    const { rows } = await roundTrip('copy_kinds', 1024 * 1024, (w) => {
      values.forEach((v, i) => w.row(4).int4(i % 2 === 0 ? i : -i).int8(v).bytea(Buffer.from(`b${v}`)).timestampMs(times[i % times.length]!));
      w.row(4).null().null().null().null();
      w.row(4).int4(2 ** 31 - 1).int8(7).bytea(new Uint8Array(0)).timestampMs(1);
      w.row(4).int4(-(2 ** 31)).null().null().null();
    });
    expect(rows).toHaveLength(values.length + 3);
    values.forEach((v, i) => {
      expect(rows[i]!.small).toBe(i % 2 === 0 ? i : -i);
      expect(rows[i]!.big).toBe(String(v));
      expect(rows[i]!.bytes!.toString()).toBe(`b${v}`);
      expect(rows[i]!.at!.getTime()).toBe(times[i % times.length]);
    });
    expect(rows[values.length]).toEqual({ small: null, big: null, bytes: null, at: null });
    expect(rows[values.length + 1]).toEqual({ small: 2 ** 31 - 1, big: '7', bytes: Buffer.alloc(0), at: new Date(1) });
    expect(rows[values.length + 2]!.small).toBe(-(2 ** 31));
  });

  test('cuts the stream into chunks of about its chunk size, anywhere in a row, and sends large values as they are', async () => {
    const large = Buffer.alloc(100_000, 9);
    const { rows, chunks } = await roundTrip('copy_chunks', 16, (w) => {
      for (let i = 0; i < 50; i++) w.row(4).int4(i).int8(i * 1000).bytea(i === 25 ? large : Buffer.alloc(i, i)).timestampMs(i);
    });
    expect(chunks.length).toBeGreaterThan(50);
    // Not copied: the large value is its own chunk, the caller's bytes.
    expect(chunks.some((chunk) => chunk.buffer === large.buffer)).toBe(true);
    expect(rows.map((r) => r.small)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    rows.forEach((row, i) => {
      expect(row.big).toBe(String(i * 1000));
      expect(row.bytes!.equals(i === 25 ? large : Buffer.alloc(i, i))).toBe(true);
    });
  });

  test('takes a first chunk no larger than it expects to write, and grows past it when it must', () => {
    const small = new CopyBinaryWriter({ expectedBytes: 6_000 });
    small.row(1).bytea(Buffer.alloc(5_000, 1));
    const [first] = small.finish();
    expect(first!.buffer.byteLength).toBeLessThan(8_000);

    const wrong = new CopyBinaryWriter({ expectedBytes: 10 });
    for (let i = 0; i < 3; i++) wrong.row(1).bytea(Buffer.alloc(5_000, i));
    const chunks = wrong.finish();
    expect(Buffer.concat(chunks).length).toBe(19 + 3 * (2 + 4 + 5_000) + 2);
  });

  test('refuses numbers an int8 cannot carry exactly, and writes after finish', () => {
    const writer = new CopyBinaryWriter();
    writer.row(1);
    expect(() => writer.int8(2 ** 53)).toThrow(RangeError);
    expect(() => writer.int8(1.5)).toThrow(RangeError);
    writer.int8(1);
    writer.finish();
    expect(() => writer.row(1)).toThrow(/finished/);
    expect(() => writer.finish()).toThrow(/finished/);
  });
});
