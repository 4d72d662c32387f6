import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../errors/error-code.js';
import { httpStatusOf } from '../errors/http-status.js';
import { PartqError } from '../errors/partq-error.js';

/** The JSON body of every error answered over plain HTTP. */
export interface HttpErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/**
 * Maps what a plain (non-Connect) route threw to a partq HTTP error: PartqError by its code
 * (`httpStatusOf`), Fastify's own 4xx errors (bad JSON, schema validation, body too large) to
 * INVALID_ARGUMENT / PAYLOAD_TOO_LARGE, anything else to a logged 500 without internals.
 */
export function toHttpError(err: unknown): { status: number; body: HttpErrorBody } {
  const partq = err instanceof PartqError ? err : fromFastifyError(err);
  const error: HttpErrorBody['error'] = { code: partq.code, message: partq.message };
  if (partq.details !== undefined) error.details = partq.details;
  return { status: httpStatusOf(partq.code), body: { error } };
}

/** Fastify error handler installed by `startServiceServer`; `configure` may replace it. */
export async function partqHttpErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<HttpErrorBody> {
  const { status, body } = toHttpError(err);
  if (status >= 500) request.log.error({ err }, 'request failed');
  return reply.status(status).send(body);
}

function fromFastifyError(err: unknown): PartqError {
  const { statusCode, message } = (err ?? {}) as { statusCode?: unknown; message?: unknown };
  if (statusCode === 413) return new PartqError('PAYLOAD_TOO_LARGE', String(message));
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new PartqError('INVALID_ARGUMENT', String(message));
  }
  return new PartqError('INTERNAL', 'internal error');
}
