import { useMigratedDatabase } from '../../test/migrated-database.js';
import { CopyBinaryWriter } from './copy-binary-writer.js';
import { copyIn } from './copy-in.js';

const testDb = useMigratedDatabase();

/** `rows` rows of one int4 and a `payloadBytes` bytea each, in 1 MiB chunks, as a sync writes them. */
function copyChunks(rows: number, payloadBytes: number, value: (row: number) => number): Buffer[] {
  const writer = new CopyBinaryWriter({ chunkBytes: 1024 * 1024 });
  const payload = Buffer.alloc(payloadBytes, 7);
  for (let i = 0; i < rows; i++) writer.row(2).int4(value(i)).bytea(payload);
  return writer.finish();
}

describe('copyIn', () => {
  test('takes every row', async () => {
    const client = await testDb.pool.connect();
    try {
      await client.query('CREATE TEMP TABLE copy_ok (v int4, b bytea)');
      await copyIn(client, 'COPY copy_ok (v, b) FROM STDIN (FORMAT binary)', copyChunks(2000, 1024, (i) => i));
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM copy_ok');
      expect(Number(rows[0]!.n)).toBe(2000);
    } finally {
      client.release();
    }
  });

  // PostgreSQL answers a failed COPY (a full disk, a constraint) while the client may still be
  // writing, waiting for the socket to drain. That once crashed the manager: the late `end()` ran
  // on a stream pg-copy-streams had already detached, and its second 'error' had no listener.
  test('rejects with the database error when the COPY fails while chunks are still going out, and the connection stays usable', async () => {
    const client = await testDb.pool.connect();
    try {
      await client.query('CREATE TEMP TABLE copy_refused (v int4 CHECK (v >= 0), b bytea)');
      // The error must come back while a chunk waits for the socket, which is a race: six COPYs,
      // refused at different rows, each with tens of MB behind the bad row.
      for (const badRow of [300, 1_000, 3_000, 8_000, 16_000, 24_000]) {
        const chunks = copyChunks(48 * 1024, 1024, (i) => (i === badRow ? -1 : i));
        await expect(copyIn(client, 'COPY copy_refused (v, b) FROM STDIN (FORMAT binary)', chunks)).rejects.toMatchObject({ code: '23514' });
        // What the stream does after the error happens on later ticks; an exception there fails the suite.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM copy_refused');
      expect(Number(rows[0]!.n)).toBe(0);
    } finally {
      client.release();
    }
  });
});
