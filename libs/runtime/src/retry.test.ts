import { Code, ConnectError } from '@connectrpc/connect';
import { PartqError } from './errors/partq-error.js';
import { retry, sleep } from './retry.js';

/** A function that fails with the given errors in turn, then returns 'done'. */
function failing(...errors: unknown[]) {
  const attempts: number[] = [];
  const fn = async (attempt: number) => {
    attempts.push(attempt);
    const error = errors[attempts.length - 1];
    if (error !== undefined) throw error;
    return 'done';
  };
  return { fn, attempts };
}

const tiny = { deadlineMs: 2000, baseDelayMs: 1, maxDelayMs: 4 };

describe('retry', () => {
  it('returns the first success without waiting', async () => {
    const { fn, attempts } = failing();
    await expect(retry(fn, tiny)).resolves.toBe('done');
    expect(attempts).toEqual([1]);
  });

  it('retries retriable failures, numbering the attempts from 1', async () => {
    const { fn, attempts } = failing(
      new PartqError('UNAVAILABLE', 'down'),
      new PartqError('NOT_OWNER', 'moved'),
      new ConnectError('network', Code.Unavailable),
    );
    await expect(retry(fn, tiny)).resolves.toBe('done');
    expect(attempts).toEqual([1, 2, 3, 4]);
  });

  it('gives up at once on a failure that is not retriable, and rethrows it as is', async () => {
    const invalid = new PartqError('INVALID_ARGUMENT', 'bad');
    const { fn, attempts } = failing(new PartqError('UNAVAILABLE', 'down'), invalid);
    await expect(retry(fn, tiny)).rejects.toBe(invalid);
    expect(attempts).toEqual([1, 2]);
  });

  it('treats unknown errors as not retriable by default', async () => {
    const bug = new TypeError('x is undefined');
    const { fn, attempts } = failing(bug);
    await expect(retry(fn, tiny)).rejects.toBe(bug);
    expect(attempts).toEqual([1]);
  });

  it('stops when the deadline leaves no room and rethrows the last failure', async () => {
    let calls = 0;
    const last = new PartqError('UNAVAILABLE', 'still down');
    await expect(
      retry(
        async () => {
          calls++;
          throw last;
        },
        { deadlineMs: 30, baseDelayMs: 2, maxDelayMs: 5 },
      ),
    ).rejects.toBe(last);
    expect(calls).toBeGreaterThan(1);
  });

  it('uses the given isRetriable', async () => {
    const { fn, attempts } = failing('flaky', 'flaky');
    await expect(retry(fn, { ...tiny, isRetriable: (e) => e === 'flaky' })).resolves.toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('stops with CANCELLED when the signal aborts', async () => {
    const controller = new AbortController();
    let calls = 0;
    const outcome = retry(
      async () => {
        calls++;
        if (calls === 2) controller.abort();
        throw new PartqError('UNAVAILABLE', 'down');
      },
      { deadlineMs: 5000, baseDelayMs: 1, maxDelayMs: 2, signal: controller.signal },
    );
    await expect(outcome).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(calls).toBe(2);
  });

  it('does not call fn when the signal is already aborted', async () => {
    const { fn, attempts } = failing();
    await expect(retry(fn, { ...tiny, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(attempts).toEqual([]);
  });
});

describe('sleep', () => {
  it('resolves after the delay', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
  });

  it('rejects with CANCELLED when aborted while waiting', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(PartqError);
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('rejects with the abort reason when it names a partq error', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new PartqError('UNAVAILABLE', 'shutting down'));
    await expect(waiting).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'shutting down' });
    await expect(sleep(60_000, AbortSignal.timeout(1))).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });
});
