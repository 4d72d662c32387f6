import { resilientCall } from './support/resilient-rest.js';

/* The fault tests' REST client: retries until a deadline, and stops at once when its caller does. */

const refused = () => Promise.reject(new TypeError('fetch failed'));

test('retries a failing request until the deadline, then says why it gave up', async () => {
  let attempts = 0;
  const call = resilientCall(() => (attempts++, refused()), { deadlineMs: 300 });
  await expect(call).rejects.toThrow(/gave up after 300 ms: fetch failed/);
  expect(attempts).toBeGreaterThan(1);
});

test('an answer under 500 ends the retries', async () => {
  let attempts = 0;
  const answers = [new Response('{"code":"UNAVAILABLE"}', { status: 503 }), new Response('{"status":"success"}', { status: 200 })];
  const result = await resilientCall(async () => answers[attempts++]!, { deadlineMs: 5_000 });
  expect(result).toEqual({ status: 200, body: { status: 'success' } });
  expect(attempts).toBe(2);
});

test('an abort during the back-off ends the call then, not when the back-off is over', async () => {
  const stop = new AbortController();
  let attempts = 0;
  let stopped!: () => void;
  const stoppedNow = new Promise<void>((resolve) => (stopped = resolve));
  const call = resilientCall(() => (attempts++, refused()), {
    deadlineMs: 60_000,
    signal: stop.signal,
    // The back-off doubles from 50 ms: after the fourth failure the call would sleep for 400 ms.
    onRetry: () => {
      if (attempts < 4) return;
      stop.abort(new Error('the test stopped'));
      stopped();
    },
  });
  const settled = call.then(
    () => 'resolved',
    (error: Error) => error.message,
  );
  await stoppedNow;
  const outcome = await Promise.race([settled, new Promise((resolve) => setTimeout(() => resolve('still sleeping'), 200))]);
  expect(outcome).toBe('the test stopped');
  expect(attempts).toBe(4);
});
