import type { Writable } from 'node:stream';

/** A call's place among the request bodies of its transport. Use it once: `end` or `skip`. */
export interface BodyTurn {
  /** Ends `stream` with `body` once every body of an earlier turn is written (or skipped). */
  end(stream: Writable, body: Uint8Array): void;
  /** This call writes no body (it failed or was cancelled first): later ones need not wait for it. */
  skip(): void;
}

/**
 * Writes request bodies one after another, in the order the calls were made. Concurrent bodies
 * on one HTTP/2 connection go out as interleaved frames, so a server finishes reading them in a
 * shuffled order: of 8 pipelined requests of 500 KiB, half arrived before one made earlier. A
 * producer's batch that a gateway reads before the batch it follows on a partition is refused by
 * the broker (SEQUENCE_GAP, nothing written) and sent again: 12 % of the Appends of a pipelined
 * 1 KiB run (docs/performance-log.md, round 44). HTTP/1.1 calls go on connections of their own,
 * each body whole on its socket, and are left as they are.
 */
export class BodyOrder {
  private last: Promise<void> = Promise.resolve();

  /** Takes the next place: call it when the call is made, before anything asynchronous. */
  take(): BodyTurn {
    const previous = this.last;
    let release!: () => void;
    this.last = new Promise<void>((resolve) => (release = resolve));
    let used = false;
    const once = (run: () => void): void => {
      if (used) return;
      used = true;
      void previous.then(run);
    };
    return {
      end: (stream, body) =>
        once(() => {
          // A stream closed while it waited (reset, cancelled) writes nothing and holds up no one.
          if (stream.destroyed || stream.closed || stream.writableEnded) {
            release();
            return;
          }
          stream.once('close', release);
          stream.end(body, release);
        }),
      skip: () => once(release),
    };
  }
}
