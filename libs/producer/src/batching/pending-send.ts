import type { ProducerError } from '../errors/producer-error.js';
import type { SendResult } from './send-result.js';

/**
 * The promise behind one send() call, whose messages may travel in several batches. It resolves
 * when every message is acknowledged and rejects at the first failure (the other messages of the
 * call may still land: their outcome is unknown to the caller, as with any failed send).
 */
export class PendingSend {
  /** The send()'s answer: one result per message, or the only result of a single-message send(). */
  readonly promise: Promise<SendResult | SendResult[]>;
  /** One result per message; undefined for a single-message send(), which resolves with its one result directly. */
  private readonly results: SendResult[] | undefined;
  private remaining: number;
  private settled = false;
  private resolvePromise!: (results: SendResult | SendResult[]) => void;
  private rejectPromise!: (error: ProducerError) => void;
  // Made only when someone waits on `done` (flush, an abort signal): most sends never need it.
  private donePromise: Promise<void> | undefined;
  private resolveDone: (() => void) | undefined;

  /** `onSettled` is told once, when the send settles either way. */
  constructor(
    readonly count: number,
    private readonly onSettled?: (pending: PendingSend) => void,
    /** A send() of one message (not an array): it resolves to that message's result. */
    single = false,
    /** The flush epoch the send was made in (SendEpochs), for `onSettled`. */
    readonly epoch = 0,
  ) {
    this.results = single ? undefined : new Array<SendResult>(count);
    this.remaining = count;
    this.promise = new Promise<SendResult | SendResult[]>((resolve, reject) => {
      this.resolvePromise = resolve;
      this.rejectPromise = reject;
    });
  }

  /** Resolves when the send settles either way; never rejects (flush and close wait on it). */
  get done(): Promise<void> {
    if (this.settled) return Promise.resolve();
    this.donePromise ??= new Promise<void>((resolve) => (this.resolveDone = resolve));
    return this.donePromise;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  complete(index: number, result: SendResult): void {
    if (this.settled) return;
    const results = this.results;
    if (results === undefined) {
      this.settled = true;
      this.resolvePromise(result);
      this.settle();
      return;
    }
    if (results[index] !== undefined) return;
    results[index] = result;
    if (--this.remaining === 0) {
      this.settled = true;
      this.resolvePromise(results);
      this.settle();
    }
  }

  fail(error: ProducerError): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectPromise(error);
    this.settle();
  }

  private settle(): void {
    this.resolveDone?.();
    this.onSettled?.(this);
  }
}
