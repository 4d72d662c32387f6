import { decodePartitionOffsets, encodePartitionOffsets, type PartitionOffsetEntry } from './partition-offsets-codec.js';
import { bytes, wireFailure } from '../../test/wire-test-helpers.js';

describe('GetUpdatesRequest.from_data', () => {
  test('reads back what it wrote, ids and offsets at their extremes included', () => {
    const entries: PartitionOffsetEntry[] = [
      { topicId: 1, partitionId: 0, offset: 0 },
      { topicId: 0, partitionId: 127, offset: 128 },
      { topicId: 0x7fffffff, partitionId: 0x7fffffff, offset: Number.MAX_SAFE_INTEGER },
      { topicId: 300, partitionId: 999, offset: 2 ** 40 + 7 },
    ];
    expect(decodePartitionOffsets(encodePartitionOffsets(entries))).toEqual(entries);
    expect(encodePartitionOffsets([]).byteLength).toBe(0);
    expect(decodePartitionOffsets(new Uint8Array(0))).toEqual([]);
  });

  test('is three varints per partition, one after another', () => {
    expect([...encodePartitionOffsets([{ topicId: 1, partitionId: 2, offset: 300 }, { topicId: 3, partitionId: 0, offset: 1 }])]).toEqual([
      1, 2, 0xac, 0x02, 3, 0, 1,
    ]);
  });

  test('refuses to write what never occurs: negative or fractional ids, offsets past 2^53', () => {
    expect(() => encodePartitionOffsets([{ topicId: -1, partitionId: 0, offset: 0 }])).toThrow(RangeError);
    expect(() => encodePartitionOffsets([{ topicId: 1, partitionId: 0.5, offset: 0 }])).toThrow(RangeError);
    expect(() => encodePartitionOffsets([{ topicId: 1, partitionId: 2 ** 31, offset: 0 }])).toThrow(RangeError);
    expect(() => encodePartitionOffsets([{ topicId: 1, partitionId: 0, offset: -1 }])).toThrow(RangeError);
    expect(() => encodePartitionOffsets([{ topicId: 1, partitionId: 0, offset: 2 ** 53 }])).toThrow(RangeError);
  });

  test('a truncated entry is malformed', () => {
    expect(wireFailure(() => decodePartitionOffsets(bytes(1))).code).toBe('MALFORMED');
    expect(wireFailure(() => decodePartitionOffsets(bytes(1, 2))).code).toBe('MALFORMED');
    expect(wireFailure(() => decodePartitionOffsets(bytes(1, 2, 0x80))).code).toBe('MALFORMED');
  });

  test('an id past int32 or an offset past 2^53 is out of range', () => {
    const bigId = [0x80, 0x80, 0x80, 0x80, 0x08]; // 2^31
    expect(wireFailure(() => decodePartitionOffsets(bytes(...bigId, 0, 0))).code).toBe('OUT_OF_RANGE');
    expect(wireFailure(() => decodePartitionOffsets(bytes(1, ...bigId, 0))).code).toBe('OUT_OF_RANGE');
    const past53 = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]; // 2^53
    expect(wireFailure(() => decodePartitionOffsets(bytes(1, 2, ...past53))).code).toBe('OUT_OF_RANGE');
  });
});
