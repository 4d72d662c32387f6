import type { ConnectError } from '@connectrpc/connect';
import { ERROR_CODE_HEADER, ERROR_DETAILS_HEADER, fromConnectError, toConnectError } from '../errors/connect-mapping.js';
import type { ErrorCode } from '../errors/error-code.js';
import { PartqError } from '../errors/partq-error.js';

/** One call as a stream of calls carries it (SendStreamRequest and its kind). */
export interface MultiplexedCall<Req> {
  callId: bigint;
  request?: Req;
}

/** Why a call failed: what the same call made alone would have failed with (partq.v1.CallFailure). */
export interface CallFailureShape {
  connectCode: number;
  message: string;
  code: string;
  detailsJson: string;
}

/** The answer to one call (SendStreamResponse and its kind). */
export interface MultiplexedAnswer<Res> {
  callId: bigint;
  outcome: { case: 'response'; value: Res } | { case: 'failure'; value: CallFailureShape };
}

export interface MultiplexedCallsOptions<Res = unknown, Out = MultiplexedAnswer<Res>> {
  /** Calls of one stream running at once; the stream is not read further until one finishes. */
  maxInFlight: number;
  /** Told of every failed call (log INTERNAL ones: the client sees no detail of them). */
  onError?: (info: { error: unknown; code: ErrorCode }) => void;
  /** Told of every call answered: its partq code ('OK' on success) and how long it ran (metrics). */
  onAnswered?: (info: { code: string; seconds: number }) => void;
  /**
   * When it aborts (the server begins to stop), no further call is read: the calls running are
   * answered and the stream ends, so the client makes its next calls on a new one (elsewhere).
   */
  stop?: AbortSignal;
  /**
   * What the stream yields for each answer: the answer itself by default, or, say, the answer
   * marked with the bytes written for it by hand (withWireBytes), as it settles.
   */
  encode?: (answer: MultiplexedAnswer<Res>) => Out;
}

/**
 * Serves unary calls that arrive on one bidirectional stream: each call runs as soon as it is read
 * (up to `maxInFlight` at once) and its answer is yielded when it completes, so calls overtake each
 * other as separate unary calls would. A failed call is answered with its failure, as the error of
 * a unary call would carry it; the stream itself fails only when reading it fails. Ends once the
 * client has ended its side (or `stop` aborted) and every call read has been answered.
 */
export async function* answerMultiplexedCalls<Req, Res, Out = MultiplexedAnswer<Res>>(
  calls: AsyncIterable<MultiplexedCall<Req>>,
  handle: (request: Req) => Promise<Res>,
  options: MultiplexedCallsOptions<Res, Out>,
): AsyncGenerator<Out> {
  // Without `encode`, Out is its default, MultiplexedAnswer<Res>.
  const encode = options.encode ?? ((answer: MultiplexedAnswer<Res>) => answer as Out);
  const answered: Out[] = [];
  let inFlight = 0;
  let reading = true;
  let readFailure: { error: unknown } | undefined;
  let wakeWriter: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  const wake = (): void => {
    wakeWriter?.();
    wakeWriter = undefined;
  };
  const settle = (answer: MultiplexedAnswer<Res>, startedAt: number): void => {
    options.onAnswered?.({ code: answer.outcome.case === 'response' ? 'OK' : answer.outcome.value.code, seconds: (performance.now() - startedAt) / 1000 });
    inFlight--;
    answered.push(encode(answer));
    wakeReader?.();
    wakeReader = undefined;
    wake();
  };
  const fail = (callId: bigint, error: unknown, startedAt: number): void => {
    const connectError = toConnectError(error);
    options.onError?.({ error, code: fromConnectError(connectError).code });
    settle({ callId, outcome: { case: 'failure', value: callFailureOf(connectError) } }, startedAt);
  };
  const start = (call: MultiplexedCall<Req>): void => {
    inFlight++;
    const startedAt = performance.now();
    if (call.request === undefined) {
      fail(call.callId, new PartqError('INVALID_ARGUMENT', `call ${call.callId} carries no request`), startedAt);
      return;
    }
    let running: Promise<Res>;
    try {
      running = handle(call.request);
    } catch (error) {
      fail(call.callId, error, startedAt);
      return;
    }
    running.then(
      (value) => settle({ callId: call.callId, outcome: { case: 'response', value } }, startedAt),
      (error: unknown) => fail(call.callId, error, startedAt),
    );
  };

  // A stop ends the read in progress. Not by racing each read against one promise of the whole
  // stream: every Promise.race leaves a reaction on a promise that never settles, ~300 bytes per
  // call kept for as long as the stream lives (a producer's SendStream, a gateway's AppendStream).
  let stopRequested = options.stop?.aborted ?? false;
  let interruptRead: ((stopped: 'stopped') => void) | undefined;
  const onStop = (): void => {
    stopRequested = true;
    interruptRead?.('stopped');
  };
  options.stop?.addEventListener('abort', onStop, { once: true });
  void (async () => {
    const iterator = calls[Symbol.asyncIterator]();
    try {
      while (!stopRequested) {
        const next = await new Promise<IteratorResult<MultiplexedCall<Req>> | 'stopped'>((resolve, reject) => {
          interruptRead = resolve;
          iterator.next().then(resolve, reject);
        });
        interruptRead = undefined;
        if (next === 'stopped' || next.done) break;
        start(next.value);
        while (inFlight >= options.maxInFlight) await new Promise<void>((resolve) => (wakeReader = resolve));
      }
    } catch (error) {
      readFailure = { error };
    } finally {
      options.stop?.removeEventListener('abort', onStop);
      reading = false;
      wake();
    }
  })();

  for (;;) {
    if (readFailure) throw readFailure.error;
    if (answered.length > 0) {
      yield answered.shift()!;
      continue;
    }
    if (!reading && inFlight === 0) return;
    await new Promise<void>((resolve) => (wakeWriter = resolve));
  }
}

/** A call's failure as a unary call's error carries it: the Connect code, the message, partq's code and details. */
export function callFailureOf(error: ConnectError): CallFailureShape {
  return {
    connectCode: error.code,
    message: error.rawMessage,
    code: error.metadata.get(ERROR_CODE_HEADER) ?? '',
    detailsJson: error.metadata.get(ERROR_DETAILS_HEADER) ?? '',
  };
}
