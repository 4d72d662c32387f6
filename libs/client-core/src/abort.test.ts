import { abortHelpers } from './abort.js';
import { ClientError } from './errors/client-error.js';
import type { ClientFailureCode } from './errors/client-failure.js';

class TestError extends ClientError<ClientFailureCode> {}
const { raceAbort, sleep, throwIfAborted } = abortHelpers({ fromFailure: ({ code, message, ...options }) => new TestError(code, message, options) });

describe('abortHelpers', () => {
  it("rejects with the client's ABORTED error, keeping the signal's reason as cause", async () => {
    const reason = new Error('stop');
    const signal = AbortSignal.abort(reason);
    expect(() => throwIfAborted(signal)).toThrow(TestError);
    await expect(sleep(10_000, signal)).rejects.toMatchObject({ code: 'ABORTED', cause: reason });
  });

  it('stops waiting when the signal fires, and settles like the promise otherwise', async () => {
    const controller = new AbortController();
    const never = new Promise<never>(() => {});
    const raced = raceAbort(never, controller.signal);
    controller.abort();
    await expect(raced).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(raceAbort(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
    throwIfAborted(undefined);
  });
});
