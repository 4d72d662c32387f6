import { PartqError } from './partq-error.js';

/**
 * A consume stream's run that a later run of the same stream id took over (its client reconnected
 * or released the stream): it ends with UNAVAILABLE, and the details say why, so whoever relays it
 * can tell this normal end from a broken path (nobody is left to read it).
 */
export function supersededRunError(message: string, details: Record<string, unknown> = {}): PartqError {
  return new PartqError('UNAVAILABLE', message, { ...details, superseded: true });
}

/** Whether `error` ended a stream run that a later run of its stream took over (see supersededRunError). */
export function isSupersededRun(error: PartqError): boolean {
  return error.code === 'UNAVAILABLE' && error.details?.['superseded'] === true;
}
