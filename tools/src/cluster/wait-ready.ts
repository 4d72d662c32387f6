/** Polls a service's /readyz (or `path`) until it answers 200, the process exits, or the deadline passes. */
export async function waitReady(url: string, options: { timeoutMs: number; exited?: () => boolean; path?: string }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (options.exited?.()) throw new Error(`process behind ${url} exited before it was ready`);
    try {
      const response = await fetch(`${url}${options.path ?? '/readyz'}`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not ready after ${options.timeoutMs} ms (${last})`);
}
