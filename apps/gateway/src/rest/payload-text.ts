import { PartqError } from '@partq/runtime';

/** How a message (or key) travels inside JSON: UTF-8 text, or base64 for arbitrary bytes. */
export type TextEncoding = 'utf8' | 'base64';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A UTF-16 surrogate without its partner: it has no UTF-8 encoding, so the bytes could not round-trip. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes a JSON string stands for: its UTF-8 encoding, or the base64 it holds. */
export function bytesOfText(text: string, encoding: TextEncoding, field: string): Uint8Array {
  if (encoding === 'base64') {
    if (!BASE64.test(text)) throw new PartqError('INVALID_ARGUMENT', `${field} is not valid base64`, { field });
    return Buffer.from(text, 'base64');
  }
  if (LONE_SURROGATE.test(text)) {
    throw new PartqError('INVALID_ARGUMENT', `${field} contains an unpaired UTF-16 surrogate; send binary data with "encoding": "base64"`, { field });
  }
  return Buffer.from(text, 'utf8');
}

/**
 * Stored bytes as a JSON string: UTF-8 text when they are valid UTF-8 (and text was not declined),
 * otherwise base64, with the encoding named so the client can tell.
 */
export function textOfBytes(bytes: Uint8Array, preferred: TextEncoding = 'utf8'): { text: string; encoding: TextEncoding } {
  if (preferred === 'utf8') {
    try {
      return { text: strictUtf8.decode(bytes), encoding: 'utf8' };
    } catch {
      // Not UTF-8: fall through to base64 rather than replace bytes with U+FFFD.
    }
  }
  return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), encoding: 'base64' };
}
