import type { DescMethodUnary } from '@bufbuild/protobuf';
import type { Registry } from 'prom-client';
import type { ErrorCode } from '../errors/error-code.js';
import { rpcDurationHistogram } from '../metrics/rpc-duration.js';
import type { MultiplexedCallsOptions } from './multiplexed-calls.js';

/**
 * Observers that make each call of a multiplexed stream count as a call of `method` in
 * `partq_rpc_duration_seconds` (whichever way it came, its count and duration stay comparable), and
 * report its failures as failures of that method (`onError`: log INTERNAL ones).
 */
export function multiplexedCallsCountedAs(
  registry: Registry,
  method: DescMethodUnary,
  onError?: (info: { method: string; error: unknown; code: ErrorCode }) => void,
): Pick<MultiplexedCallsOptions, 'onError' | 'onAnswered'> {
  const durations = rpcDurationHistogram(registry);
  const seriesOf = (code: string) => durations.series({ service: method.parent.typeName, method: method.name, code });
  const answered = seriesOf('OK');
  return {
    onError: onError && (({ error, code }) => onError({ method: method.localName, error, code })),
    onAnswered: ({ code, seconds }) => (code === 'OK' ? answered : seriesOf(code)).observe(seconds),
  };
}
