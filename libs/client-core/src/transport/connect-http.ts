import { ConnectError } from '@connectrpc/connect';
import { codeFromHttpStatus, errorFromJsonBytes } from '@connectrpc/connect/protocol-connect';

/** What the lean transports share: the headers of a Connect call going out, and reading an answer's. */

export type HeadersInit = ConstructorParameters<typeof Headers>[0];
export type RawHeaders = Record<string, string | string[] | number | undefined>;

const TRAILER_PREFIX = 'trailer-';

/** The headers of a Connect call: its content type, the protocol version, its length and deadline, then the caller's and the defaults. */
export function requestHeaders(
  contentType: string,
  header: HeadersInit | undefined,
  defaults: Record<string, string> | undefined,
  contentLength: number,
  timeoutMs: number | undefined,
): RawHeaders {
  const headers: RawHeaders = {
    'content-type': contentType,
    'connect-protocol-version': '1',
    'content-length': contentLength,
  };
  if (timeoutMs !== undefined && timeoutMs > 0) headers['connect-timeout-ms'] = String(Math.ceil(timeoutMs));
  if (header !== undefined) new Headers(header).forEach((value, key) => (headers[key] = value));
  if (defaults) for (const [key, value] of Object.entries(defaults)) if (headers[key] === undefined) headers[key] = value;
  return headers;
}

/** Connect puts a unary call's trailers in headers prefixed `trailer-`; HTTP/2 pseudo-headers are left out. */
export function splitHeaders(raw: RawHeaders): { header: Headers; trailer: Headers } {
  const header = new Headers();
  const trailer = new Headers();
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || key.startsWith(':')) continue;
    const values = Array.isArray(value) ? value : [String(value)];
    for (const v of values) {
      if (key.startsWith(TRAILER_PREFIX)) trailer.append(key.slice(TRAILER_PREFIX.length), v);
      else header.append(key, v);
    }
  }
  return { header, trailer };
}

/** The Connect error JSON of a failed call; a body that is not one (a proxy's page) gives the code of its HTTP status. */
export function connectErrorOf(status: number, body: Uint8Array, header: Headers, trailer: Headers): ConnectError {
  const fallback = new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status), header);
  try {
    const merged = new Headers(header);
    trailer.forEach((value, key) => merged.append(key, value));
    return errorFromJsonBytes(body, merged, fallback);
  } catch (error) {
    // errorFromJsonBytes throws `fallback` when the body is not Connect's error JSON.
    return error instanceof ConnectError ? error : fallback;
  }
}
