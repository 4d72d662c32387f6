import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * Runs `COPY ... FROM STDIN` on `client` with `chunks` as its data, and resolves once PostgreSQL
 * has taken all of it (or rejects with its error; the COPY then wrote nothing). Inside a
 * transaction the rows commit with it. The chunks go with backpressure: a sync of a few hundred
 * MB never queues all of it in the socket at once. Written by hand rather than with
 * stream.pipeline, whose AbortController makes (and throws away) a DOMException with a stack trace
 * on every call: a sync of one record spent more on that than on its COPY.
 */
export function copyIn(client: pg.ClientBase, statement: string, chunks: readonly Buffer[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stream = client.query(copyFrom(statement));
    // PostgreSQL may refuse the COPY (a full disk, a constraint) while a chunk still waits for the
    // socket. pg-copy-streams then detaches from the connection, and a later write or end() on it
    // throws, once as a second 'error': the listener stays, and nothing is written after the first.
    let failed = false;
    stream.on('error', (error) => {
      if (failed) return;
      failed = true;
      reject(error);
    });
    stream.once('finish', resolve);
    let next = 0;
    const writeMore = (): void => {
      if (failed) return;
      while (next < chunks.length) {
        if (!stream.write(chunks[next++])) {
          stream.once('drain', writeMore);
          return;
        }
      }
      stream.end();
    };
    writeMore();
  });
}
