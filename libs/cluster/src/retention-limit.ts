import { isValidRetentionLimit } from '@partq/partition';
import { PartqError } from '@partq/runtime';

/** Refuses a topic limit that is set but not a whole number from 1 (INVALID_ARGUMENT, naming the field); the gateway and the manager both check. */
export function assertRetentionLimit(value: bigint | undefined, field: 'retention_ms' | 'retention_bytes'): void {
  if (value !== undefined && !isValidRetentionLimit(value)) {
    throw new PartqError('INVALID_ARGUMENT', `${field} must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`, { [field]: String(value) });
  }
}
