import { WireFormatError } from '../src/codec/wire-format-error.js';

/** Raw wire bytes, written out byte by byte. */
export const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

/** The WireFormatError `run` throws; anything else it throws, or no throw, fails the test. */
export function wireFailure(run: () => unknown): WireFormatError {
  try {
    run();
  } catch (error) {
    if (error instanceof WireFormatError) return error;
    throw error;
  }
  throw new Error('expected a WireFormatError');
}
