import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Code } from '@connectrpc/connect';
import { PartqError } from '../errors/partq-error.js';
import { answerMultiplexedCalls, type MultiplexedAnswer, type MultiplexedCall } from './multiplexed-calls.js';

/** An async iterable fed by hand, as a stream's incoming messages are. */
function feed<T>() {
  const items: T[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    wake?.();
    wake = undefined;
  };
  return {
    push(item: T) {
      items.push(item);
      poke();
    },
    end() {
      ended = true;
      poke();
    },
    fail(error: unknown) {
      failure = error;
      poke();
    },
    read: 0,
    async *[Symbol.asyncIterator](): AsyncGenerator<T> {
      for (;;) {
        if (failure) throw failure;
        if (items.length > 0) {
          this.read++;
          yield items.shift()!;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

const call = (id: number, request?: string): MultiplexedCall<string> => ({ callId: BigInt(id), request });

describe('answerMultiplexedCalls', () => {
  it('answers each call with its id, in the order the calls complete', async () => {
    const calls = feed<MultiplexedCall<string>>();
    const running = new Map<string, ReturnType<typeof deferred<string>>>();
    const answers = collect(
      answerMultiplexedCalls(
        calls,
        (request) => {
          const d = deferred<string>();
          running.set(request, d);
          return d.promise;
        },
        { maxInFlight: 8 },
      ),
    );
    calls.push(call(1, 'a'));
    calls.push(call(2, 'b'));
    calls.push(call(3, 'c'));
    await new Promise((resolve) => setImmediate(resolve));
    expect([...running.keys()]).toEqual(['a', 'b', 'c']); // all three run at once
    running.get('c')!.resolve('C');
    running.get('a')!.resolve('A');
    await new Promise((resolve) => setImmediate(resolve));
    running.get('b')!.resolve('B');
    calls.end();
    expect((await answers).map((a) => [a.callId, a.outcome.value])).toEqual([
      [3n, 'C'],
      [1n, 'A'],
      [2n, 'B'],
    ]);
  });

  it('answers a failed call with what its unary error would carry, and goes on with the others', async () => {
    const calls = feed<MultiplexedCall<string>>();
    const errors: string[] = [];
    const answers = collect(
      answerMultiplexedCalls(
        calls,
        async (request) => {
          if (request === 'missing') throw new PartqError('NOT_FOUND', 'producer 7 is not registered', { producerId: 7 });
          if (request === 'bug') throw new Error('secret stack');
          return request.toUpperCase();
        },
        { maxInFlight: 8, onError: ({ code }) => errors.push(code) },
      ),
    );
    calls.push(call(1, 'missing'));
    calls.push(call(2, 'bug'));
    calls.push(call(3));
    calls.push(call(4, 'ok'));
    calls.end();
    const byId = new Map((await answers).map((a) => [a.callId, a.outcome]));
    expect(byId.get(1n)).toEqual({
      case: 'failure',
      value: { connectCode: Code.NotFound, message: 'producer 7 is not registered', code: 'NOT_FOUND', detailsJson: '{"producerId":7}' },
    });
    expect(byId.get(2n)).toEqual({ case: 'failure', value: { connectCode: Code.Internal, message: 'internal error', code: 'INTERNAL', detailsJson: '' } });
    expect(byId.get(3n)).toMatchObject({ case: 'failure', value: { code: 'INVALID_ARGUMENT', message: 'call 3 carries no request' } });
    expect(byId.get(4n)).toEqual({ case: 'response', value: 'OK' });
    expect(errors.sort()).toEqual(['INTERNAL', 'INVALID_ARGUMENT', 'NOT_FOUND']);
  });

  it('reads no further while maxInFlight calls run', async () => {
    const calls = feed<MultiplexedCall<string>>();
    const running: ReturnType<typeof deferred<string>>[] = [];
    const answered: MultiplexedAnswer<string>[] = [];
    const done = (async () => {
      for await (const answer of answerMultiplexedCalls(
        calls,
        () => {
          const d = deferred<string>();
          running.push(d);
          return d.promise;
        },
        { maxInFlight: 2 },
      )) {
        answered.push(answer);
      }
    })();
    for (let id = 1; id <= 5; id++) calls.push(call(id, String(id)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(running).toHaveLength(2);
    running[0]!.resolve('x');
    await new Promise((resolve) => setImmediate(resolve));
    expect(running).toHaveLength(3);
    for (let i = 1; i < 5; i++) {
      running[i]!.resolve('x');
      await new Promise((resolve) => setImmediate(resolve));
    }
    calls.end();
    await done;
    expect(answered.map((a) => a.callId)).toEqual([1n, 2n, 3n, 4n, 5n]);
  });

  it('fails the stream when reading it fails', async () => {
    const calls = feed<MultiplexedCall<string>>();
    const answers = collect(answerMultiplexedCalls(calls, async (request) => request, { maxInFlight: 8 }));
    calls.push(call(1, 'a'));
    await new Promise((resolve) => setImmediate(resolve));
    calls.fail(new Error('the client went away'));
    await expect(answers).rejects.toThrow('the client went away');
  });

  it('ends at once when the client sends no calls', async () => {
    const calls = feed<MultiplexedCall<string>>();
    calls.end();
    await expect(collect(answerMultiplexedCalls(calls, async (request) => request, { maxInFlight: 8 }))).resolves.toEqual([]);
  });

  it('reads no further once stop aborts, answers the calls running, then ends', async () => {
    const calls = feed<MultiplexedCall<string>>();
    const stop = new AbortController();
    const running: ReturnType<typeof deferred<string>>[] = [];
    const answers = collect(
      answerMultiplexedCalls(
        calls,
        () => {
          const d = deferred<string>();
          running.push(d);
          return d.promise;
        },
        { maxInFlight: 8, stop: stop.signal },
      ),
    );
    calls.push(call(1, 'a'));
    await new Promise((resolve) => setImmediate(resolve));
    stop.abort();
    calls.push(call(2, 'b')); // arrives after the stop: never read, never run
    await new Promise((resolve) => setImmediate(resolve));
    running[0]!.resolve('A');
    expect((await answers).map((a) => a.callId)).toEqual([1n]);
    expect(running).toHaveLength(1);
  });

  it('yields what encode makes of each answer, failures included', async () => {
    const calls = feed<MultiplexedCall<string>>();
    const encoded: string[] = [];
    const answers = collect(
      answerMultiplexedCalls(
        calls,
        async (request) => {
          if (request === 'bad') throw new PartqError('INVALID_ARGUMENT', 'no');
          return request.toUpperCase();
        },
        {
          maxInFlight: 8,
          encode: (answer: MultiplexedAnswer<string>) => {
            const text = `${answer.callId}:${answer.outcome.case === 'response' ? answer.outcome.value : answer.outcome.value.code}`;
            encoded.push(text);
            return text;
          },
        },
      ),
    );
    calls.push(call(1, 'a'));
    calls.push(call(2, 'bad'));
    calls.end();
    expect(await answers).toEqual(['1:A', '2:INVALID_ARGUMENT']);
    expect(encoded).toEqual(['1:A', '2:INVALID_ARGUMENT']); // once each
  });

  it('keeps nothing per call for as long as the stream lives (a stop signal that never aborts)', async () => {
    // A collection on demand, to compare the heap before and after (jest runs without --expose-gc).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const calls = feed<MultiplexedCall<string>>();
    const stop = new AbortController();
    const answers = answerMultiplexedCalls(calls, async (request) => request, { maxInFlight: 8, stop: stop.signal })[Symbol.asyncIterator]();
    const roundTrips = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        calls.push(call(i, 'x'));
        await answers.next();
      }
    };
    await roundTrips(5_000); // warm: the code is compiled, the heap settled
    gc();
    const before = process.memoryUsage().heapUsed;
    await roundTrips(100_000);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // Racing every read against one promise of the stream kept ~300 bytes a call: ~30 MB here.
    expect(grown).toBeLessThan(5 * 1024 * 1024);
    calls.end();
    await answers.next();
  });
});
