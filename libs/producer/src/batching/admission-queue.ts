import { abortedError } from '../abort.js';
import type { Dispatcher } from './dispatcher.js';
import type { PendingSend } from './pending-send.js';

/** What the queue needs of a waiting send(); the producer's entries carry their messages too. */
export interface QueuedSend {
  readonly pending: PendingSend;
  readonly signal: AbortSignal | undefined;
}

/**
 * The send() calls that wait for the batches to admit messages (a sealed batch waits for a slot on
 * the wire), first come, first served. One loop waits for the dispatcher's admission on behalf of all
 * of them and hands each to `admitted` in call order while admission stays open.
 *
 * Why not an async function per send: with thousands of sends outpacing the wire, each one's
 * suspended frame, promises and listeners lived until its admission, and the young generation copied
 * them all at every scavenge (a fifth of the pipelined client's CPU). An entry here is one object.
 */
export class AdmissionQueue<T extends QueuedSend> {
  private entries: (T | undefined)[] = [];
  /** The abort listener of each entry with a signal, at the same index. */
  private listeners: ((() => void) | undefined)[] = [];
  private head = 0;
  private draining = false;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly admitted: (send: T) => void,
  ) {}

  /** No send is waiting: a new one may go ahead without queueing. */
  get isEmpty(): boolean {
    return this.head === this.entries.length;
  }

  /** Queues `send` behind the waiting ones; if its signal fires first, it fails ABORTED and is skipped. */
  push(send: T): void {
    const { signal, pending } = send;
    let onAbort: (() => void) | undefined;
    if (signal) {
      onAbort = () => pending.fail(abortedError(signal));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    }
    this.entries.push(send);
    this.listeners.push(onAbort);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.head < this.entries.length) {
        if (!this.dispatcher.admitsNow) {
          await this.dispatcher.admission();
          continue;
        }
        const at = this.head++;
        const send = this.entries[at]!;
        const onAbort = this.listeners[at];
        this.entries[at] = undefined;
        this.listeners[at] = undefined;
        if (onAbort) send.signal!.removeEventListener('abort', onAbort);
        // Aborted while it waited: already failed.
        if (!send.pending.isSettled) this.admitted(send);
      }
      this.entries = [];
      this.listeners = [];
      this.head = 0;
    } finally {
      // Cleared in the same synchronous run that found the queue empty, so a push after it starts a new loop.
      this.draining = false;
    }
  }
}
