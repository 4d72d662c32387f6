import { fromConnectError } from '../src/errors/connect-mapping.js';
import type { PartqError } from '../src/errors/partq-error.js';

/** The partq error a call failed with; fails the test when the call succeeds. */
export async function errorOf(promise: Promise<unknown>): Promise<PartqError> {
  try {
    await promise;
  } catch (e) {
    return fromConnectError(e);
  }
  throw new Error('expected the call to fail');
}
