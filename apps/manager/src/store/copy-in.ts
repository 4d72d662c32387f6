import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * Runs `COPY ... FROM STDIN` on `client` with `chunks` as its data, and resolves once PostgreSQL
 * has taken all of it (or rejects with its error; the COPY then wrote nothing). Inside a
 * transaction the rows commit with it. The chunks go with backpressure: a sync of a few hundred
 * MB never queues all of it in the socket at once.
 */
export async function copyIn(client: pg.ClientBase, statement: string, chunks: readonly Buffer[]): Promise<void> {
  await pipeline(Readable.from(chunks, { objectMode: false }), client.query(copyFrom(statement)));
}
