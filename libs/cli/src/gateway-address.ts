import { usageError } from './cli-error.js';
import type { OptionValues } from './args.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Where the gateways are and how long to keep retrying a call. */
export interface GatewayAddress {
  /** Gateway base URLs; the clients move to the next when one is unreachable. */
  urls: string[];
  /** A call that keeps failing transiently gives up after this long. */
  timeoutMs: number;
}

/** --url (comma-separated), else PARTQ_URL, else the local default; --timeout in milliseconds. */
export function gatewayAddress(values: OptionValues, env: Readonly<Record<string, string | undefined>>): GatewayAddress {
  const raw = (typeof values.url === 'string' ? values.url : undefined) ?? env.PARTQ_URL ?? DEFAULT_URL;
  const urls = raw
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0) throw usageError('--url needs at least one gateway URL');
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw usageError(`"${url}" is not a URL (expected e.g. ${DEFAULT_URL})`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError(`"${url}" is not an http(s) URL`);
  }
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (values.timeout !== undefined) {
    timeoutMs = /^\d+$/.test(String(values.timeout)) ? Number(values.timeout) : Number.NaN;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
      throw usageError(`--timeout must be a positive number of milliseconds, got "${String(values.timeout)}"`);
    }
  }
  return { urls, timeoutMs };
}
