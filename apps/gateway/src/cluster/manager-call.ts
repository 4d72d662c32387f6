import { fromConnectError } from '@partq/runtime';

/** Default budget of a control-plane call made on behalf of a client request. */
export const MANAGER_CALL_TIMEOUT_MS = 5000;

/** Runs a manager RPC and turns its failure into the PartqError it stands for. */
export async function managerCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromConnectError(error);
  }
}
