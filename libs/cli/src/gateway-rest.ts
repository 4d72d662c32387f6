import { CliError } from './cli-error.js';

export interface RestCallOptions {
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * GET a JSON resource of the gateway's REST API (brokers, health, partitions). Answers
 * `{"status":"success", ...}`; a failure envelope, another status or an unreachable gateway is a
 * FAILED error that says which.
 */
export async function getJson(
  baseUrl: string,
  path: string,
  query: Record<string, string>,
  options: RestCallOptions,
): Promise<Record<string, unknown>> {
  const url = new URL(path, `${baseUrl}/`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) });
  } catch (error) {
    if (options.signal.aborted) throw new CliError('INTERRUPTED', 'interrupted', { cause: error });
    const reason = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError('FAILED', `cannot reach the gateway at ${baseUrl}: ${reason?.code ?? reason?.message ?? String(error)}`, { cause: error });
  }
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CliError('FAILED', `${url.pathname} answered HTTP ${response.status} without JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok || body.status !== 'success') {
    const code = typeof body.code === 'string' ? body.code : `HTTP ${response.status}`;
    // Worded as the clients' errors are: the message, then the code.
    throw new CliError('FAILED', `${typeof body.message === 'string' ? body.message : text.slice(0, 200)} (${code})`);
  }
  return body;
}
