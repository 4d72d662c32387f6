import { ConnectError } from '@connectrpc/connect';
import { fromConnectError, httpStatusOf, PartqError, type ErrorCode } from '@partq/runtime';

/** Every REST answer carries `status`; a failure also a stable `code` and a human `message`. */
export type SuccessBody<T extends object> = { status: 'success' } & T;

export interface FailureBody {
  status: 'failure';
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export function success<T extends object>(fields: T): SuccessBody<T> {
  return { status: 'success', ...fields };
}

export function failureBody(error: PartqError): FailureBody {
  const body: FailureBody = { status: 'failure', code: error.code, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  return body;
}

/**
 * What a REST route threw, as the HTTP status and envelope to answer. Bad input of any kind
 * (malformed JSON, schema violations, unsupported content types, bodies over the limit) is a 4xx
 * with INVALID_ARGUMENT or PAYLOAD_TOO_LARGE; only an unexpected error is a 500, without internals.
 */
export function toFailure(error: unknown): { httpStatus: number; body: FailureBody; unexpected: boolean } {
  if (error instanceof PartqError || error instanceof ConnectError) {
    const partq = fromConnectError(error);
    return { httpStatus: httpStatusOf(partq.code), body: failureBody(partq), unexpected: partq.code === 'INTERNAL' };
  }
  const { statusCode, message, validation } = (error ?? {}) as { statusCode?: unknown; message?: unknown; validation?: unknown };
  const text = typeof message === 'string' ? message : 'bad request';
  if (validation !== undefined) return clientFault('INVALID_ARGUMENT', text, 400);
  if (statusCode === 413) return clientFault('PAYLOAD_TOO_LARGE', text, 413);
  // Fastify says only "Unsupported Media Type"; curl without -H sends a form, so say what to send.
  if (statusCode === 415) return clientFault('INVALID_ARGUMENT', 'the body must be JSON with Content-Type: application/json', 415);
  // Fastify's own 4xx (bad JSON, empty body, 415 unsupported media type...) keep their precise status.
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return clientFault('INVALID_ARGUMENT', text, statusCode);
  return { httpStatus: 500, body: { status: 'failure', code: 'INTERNAL', message: 'internal error' }, unexpected: true };
}

function clientFault(code: ErrorCode, message: string, httpStatus: number): { httpStatus: number; body: FailureBody; unexpected: false } {
  return { httpStatus, body: { status: 'failure', code, message }, unexpected: false };
}
