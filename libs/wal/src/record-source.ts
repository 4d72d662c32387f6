/**
 * Records for Wal.append that the WAL writes into its own buffer when it writes them: a caller that
 * builds its records (the broker encodes each one) need not build them in a buffer of its own first,
 * only for the WAL to copy that. What `writeTo` reads must not change until the append settles.
 */
export interface RecordSource {
  /** How many records (at least one). */
  readonly count: number;
  /** Bytes of record `index`, the same each time it is asked. */
  byteLength(index: number): number;
  /** Writes record `index`, exactly `byteLength(index)` bytes, into `target` at `at`. */
  writeTo(index: number, target: Uint8Array, at: number): void;
}

/** Records already in buffers of their own (the WAL copies them: it caches its copy, never the caller's). */
export function bytesSource(records: readonly Uint8Array[]): RecordSource {
  return {
    count: records.length,
    byteLength: (index) => records[index]!.byteLength,
    writeTo: (index, target, at) => target.set(records[index]!, at),
  };
}
