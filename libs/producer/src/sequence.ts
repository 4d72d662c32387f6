/**
 * The sequence numbers of one producer id: each message gets the next one, once, when it enters a
 * batch. A retried batch keeps its sequences, which is what lets the broker land it exactly once.
 * Messages withdrawn before sending leave gaps; the broker accepts gaps and any arrival order.
 */
export class SequenceCounter {
  // A number, not a bigint: a bigint is a heap object per message, and 2^53 sequences never run out.
  private next = 0;

  take(): number {
    return this.next++;
  }
}
