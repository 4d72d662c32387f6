import { decodeSequenceRuns, encodeSequenceRuns, SEQUENCE_RUN_BYTES } from './sequence-runs.js';

describe('encodeSequenceRuns / decodeSequenceRuns', () => {
  test('round-trip, 24 bytes a run, big-endian as PostgreSQL’s int4send and int8send write them', () => {
    const runs = [
      { producerId: 2 ** 31 - 1, firstSequence: 2 ** 53 - 1, firstOffset: 2 ** 40, count: 3 },
      { producerId: 1, firstSequence: 0, firstOffset: 0, count: 1 },
    ];
    const bytes = encodeSequenceRuns(runs);
    expect(bytes.byteLength).toBe(2 * SEQUENCE_RUN_BYTES);
    expect(bytes.subarray(24, 48).toString('hex')).toBe('00000001' + '0000000000000000' + '0000000000000000' + '00000001');
    expect(decodeSequenceRuns(bytes)).toEqual(runs);
    expect(decodeSequenceRuns(new Uint8Array(0))).toEqual([]);
    expect(() => decodeSequenceRuns(new Uint8Array(25))).toThrow(RangeError);
  });
});
