import { json } from './json.js';
import { toOutgoingMessage } from './message.js';

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

describe('toOutgoingMessage', () => {
  it('encodes strings as UTF-8 and keeps bytes as they are', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(text(toOutgoingMessage('héllo', {}, 0).payload)).toBe('héllo');
    expect(toOutgoingMessage(bytes, {}, 0).payload).toBe(bytes);
  });

  it('lets a message override the call defaults for key and partition', () => {
    const defaults = { key: 'k', partition: 1 };
    const plain = toOutgoingMessage('a', defaults, 0);
    expect([text(plain.key), plain.partitionId]).toEqual(['k', 1]);
    const own = toOutgoingMessage({ value: 'a', key: 'mine', partition: 0 }, defaults, 0);
    expect([text(own.key), own.partitionId]).toEqual(['mine', 0]);
  });

  it('gives every message the same fields in the same order, set or not (one object shape for all)', () => {
    const fields = ['payload', 'key', 'partitionId', 'sequence', 'previousSequence'];
    expect(Object.keys(toOutgoingMessage('a', {}, 0))).toEqual(fields);
    expect(Object.keys(toOutgoingMessage({ value: 'a', key: 'k', partition: 2 }, {}, 0))).toEqual(fields);
    expect(Object.keys(toOutgoingMessage(new Uint8Array(1), { partition: 1 }, 0))).toEqual(fields);
  });

  it('refuses values, keys and partitions of the wrong kind', () => {
    expect(() => toOutgoingMessage(42 as never, {}, 3)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => toOutgoingMessage({ value: 'a', key: 1 as never }, {}, 0)).toThrow(/key must be/);
    expect(() => toOutgoingMessage({ value: 'a', partition: 1.5 }, {}, 0)).toThrow(/partition must be/);
  });
});

describe('json', () => {
  it('round-trips values through UTF-8 JSON', () => {
    const value = { id: 1, name: 'ü', tags: ['a'] };
    expect(json.decode<typeof value>(json.encode(value))).toEqual(value);
  });

  it('refuses what JSON cannot represent', () => {
    expect(() => json.encode(undefined)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
