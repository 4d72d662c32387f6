import { randomBytes } from 'node:crypto';
import { raceAbort } from './abort.js';

/** A fresh request id: 16 random bytes as hex. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

interface TopicLine {
  /** Settles when the last fetch queued on this topic has finished. Never rejects. */
  tail: Promise<void>;
  /** The fetch whose answer never arrived: its id is what the next fetch must send again. */
  unanswered?: { consumerId: number; requestId: string };
}

/**
 * Gives every Dequeue a request id so that a lost answer loses nothing. The replica commits a
 * consumer's position before it answers and remembers its last delivery by request id: a Dequeue
 * that repeats the id of the consumer's LAST request gets the same messages again instead of the
 * next ones. That holds for the last request only, hence the two rules here, per topic:
 *
 * - fetches run one at a time, so no other Dequeue of this consumer slips between an attempt whose
 *   answer was lost and its retry;
 * - an id is retired only when an answer to it arrived. A fetch that failed (connection cut,
 *   timeout, abort, close, retry deadline) leaves its id for the next fetch of the topic, so the
 *   messages it may have moved past are handed out then. Resending an id whose request never
 *   landed is harmless: the replica replays only the id it last delivered to.
 */
export class DequeueRequests {
  private readonly lines = new Map<string, TopicLine>();

  /** Whether the last fetch of `topic` has no answer (yet): the messages it moved past may await a retry of its id. */
  hasUnanswered(topic: string): boolean {
    return this.lines.get(topic)?.unanswered !== undefined;
  }

  /**
   * Runs `fetch` when every earlier fetch of `topic` is done, with the request id it must send.
   * Rejects with ABORTED if `signal` fires while waiting for its turn.
   */
  async run<T>(topic: string, consumerId: number, fetch: (requestId: string) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let line = this.lines.get(topic);
    if (!line) {
      line = { tail: Promise.resolve() };
      this.lines.set(topic, line);
    }
    const previous = line.tail;
    let finished!: () => void;
    const mine = new Promise<void>((resolve) => (finished = resolve));
    // The next fetch waits for this one AND everything before it, even if this one gives up waiting.
    line.tail = previous.then(() => mine);
    try {
      await raceAbort(previous, signal);
      const requestId = line.unanswered?.consumerId === consumerId ? line.unanswered.requestId : newRequestId();
      line.unanswered = { consumerId, requestId };
      const result = await fetch(requestId);
      line.unanswered = undefined;
      return result;
    } finally {
      finished();
    }
  }
}
