import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What a careful REST client does when processes die under it: retry retriable failures
 * (connection errors, 5xx) with the same idempotence token until a deadline.
 */
export interface RestResult {
  status: number;
  body: Record<string, unknown>;
}

/** Makes one attempt; `signal` aborts it when the caller stops. */
export type RestRequest = (signal?: AbortSignal) => Promise<Response>;

export async function resilientCall(
  makeRequest: RestRequest,
  options: { deadlineMs: number; onRetry?: (reason: string) => void; signal?: AbortSignal },
): Promise<RestResult> {
  const deadline = Date.now() + options.deadlineMs;
  let delay = 50;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted();
    try {
      const response = await makeRequest(options.signal);
      const body = (await response.json()) as Record<string, unknown>;
      if (response.status < 500) return { status: response.status, body };
      last = `HTTP ${response.status} ${String(body.code)}`;
    } catch (error) {
      options.signal?.throwIfAborted();
      last = error instanceof Error ? `${error.message} ${String((error as { cause?: { code?: string } }).cause?.code ?? '')}` : String(error);
    }
    options.onRetry?.(last);
    // A stopped caller is not kept waiting out the back-off, and gets its own abort reason, as above.
    await sleep(delay, undefined, { signal: options.signal }).catch(() => options.signal?.throwIfAborted());
    delay = Math.min(1000, delay * 2);
  }
  throw new Error(`gave up after ${options.deadlineMs} ms: ${last}`);
}

const attemptSignal = (signal?: AbortSignal): AbortSignal =>
  signal ? AbortSignal.any([signal, AbortSignal.timeout(20_000)]) : AbortSignal.timeout(20_000);

export function postJson(baseUrl: string, path: string, body: unknown): RestRequest {
  return (signal) =>
    fetch(new URL(path, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: attemptSignal(signal),
    });
}

export function getJson(baseUrl: string, path: string, query: Record<string, string | number>): RestRequest {
  const url = new URL(path, baseUrl);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  return (signal) => fetch(url, { signal: attemptSignal(signal) });
}
