import { ConnectError } from '@connectrpc/connect';

/** The Connect error a call failed with; fails the test when the call succeeds. */
export async function failureOf(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error('expected the call to fail');
}
