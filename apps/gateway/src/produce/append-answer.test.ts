import { create } from '@bufbuild/protobuf';
import { AppendResponseSchema } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import { expandAppendResponse } from './append-answer.js';

describe('expandAppendResponse', () => {
  test('written records count on from the base offset; duplicates keep their original offset', () => {
    const response = create(AppendResponseSchema, { baseOffset: 10n, duplicates: [{ index: 1, offset: 3n }, { index: 3, offset: 4n }] });
    expect(expandAppendResponse(response, 5)).toEqual({ offsets: [10n, 3n, 11n, 4n, 12n], duplicates: [false, true, false, true, false] });
  });

  test('an append of duplicates only', () => {
    const response = create(AppendResponseSchema, { baseOffset: 99n, duplicates: [{ index: 0, offset: 7n }] });
    expect(expandAppendResponse(response, 1)).toEqual({ offsets: [7n], duplicates: [true] });
  });

  test('a duplicate index outside the request, or named twice, is an INTERNAL error', () => {
    for (const duplicates of [[{ index: 2, offset: 1n }], [{ index: -1, offset: 1n }], [{ index: 0, offset: 1n }, { index: 0, offset: 2n }]]) {
      const response = create(AppendResponseSchema, { baseOffset: 0n, duplicates });
      expect(() => expandAppendResponse(response, 2)).toThrow(PartqError);
    }
  });
});
