/** A record of a partition as the replica hands it on: offsets and times as plain numbers. */
export interface FetchedRecord {
  offset: number;
  payload: Uint8Array;
  key?: Uint8Array;
  timestampMs: number;
}

/** What a record costs in the read-ahead cache: its bytes plus a fixed overhead for the object. */
export function recordBytes(record: FetchedRecord): number {
  return record.payload.byteLength + (record.key?.byteLength ?? 0) + 64;
}

/** The longest run of `records` that starts at `from` and has no gap. */
export function contiguousFrom(records: readonly FetchedRecord[], from: number): FetchedRecord[] {
  const run: FetchedRecord[] = [];
  for (const record of records) {
    if (record.offset !== from + run.length) break;
    run.push(record);
  }
  return run;
}
