export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every 100 ms until it returns a value; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Stops a process (SIGSTOP) for `ms`, then lets it run again (SIGCONT), even if the wait fails. */
export async function pauseFor(target: { kill(signal: NodeJS.Signals): unknown }, ms: number): Promise<void> {
  await target.kill('SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    await target.kill('SIGCONT');
  }
}
