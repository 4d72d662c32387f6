/** Why bytes could not be read as the message they claim to be. */
export type WireFormatErrorCode = 'MALFORMED' | 'OUT_OF_RANGE';

/**
 * Bytes handed to a hand-written codec were not a valid encoding (truncated, wrong wire type,
 * a length past the end) or held a number the codec cannot represent exactly. Servers turn it into
 * INVALID_ARGUMENT; it is never a crash.
 */
export class WireFormatError extends Error {
  constructor(
    readonly code: WireFormatErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WireFormatError';
  }
}
