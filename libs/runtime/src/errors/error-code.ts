/** Every error code partq speaks, on the wire (REST bodies, Connect headers) and in code. */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'PAYLOAD_TOO_LARGE',
  'EMPTY',
  'UNAVAILABLE',
  'STALE_EPOCH',
  'NOT_OWNER',
  'OUT_OF_ORDER_SEQUENCE',
  'SEQUENCE_GAP',
  'OFFSET_OUT_OF_RANGE',
  'UNAUTHENTICATED',
  'DEADLINE_EXCEEDED',
  'CANCELLED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN = new Set<string>(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN.has(value);
}

/**
 * Codes a caller may retry as they are: the service was briefly unreachable, the partition moved
 * (STALE_EPOCH, NOT_OWNER) and a fresh partition map will name the right broker, or an earlier
 * batch of the same producer has yet to land (SEQUENCE_GAP).
 */
const RETRIABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['UNAVAILABLE', 'STALE_EPOCH', 'NOT_OWNER', 'DEADLINE_EXCEEDED', 'SEQUENCE_GAP']);

export function isRetriableCode(code: ErrorCode): boolean {
  return RETRIABLE.has(code);
}
