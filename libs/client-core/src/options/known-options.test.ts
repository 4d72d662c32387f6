import type { ClientFailure } from '../errors/client-failure.js';
import { knownOptionsCheck, optionNames } from './known-options.js';

class TestError extends Error {
  constructor(readonly failure: ClientFailure) {
    super(failure.message);
  }
}
const check = knownOptionsCheck({ fromFailure: (failure) => new TestError(failure) });
const KNOWN = optionNames<{ partition?: number; signal?: AbortSignal }>({ partition: true, signal: true });

test('optionNames lists the record\'s keys', () => {
  expect(KNOWN).toEqual(['partition', 'signal']);
});

test('passes an object of known options, an empty one, and keys it inherits', () => {
  expect(() => check({ partition: 1, signal: undefined }, KNOWN, 'opts')).not.toThrow();
  expect(() => check({}, KNOWN, 'opts')).not.toThrow();
  const inherited = Object.create({ somethingElse: true }) as object;
  expect(() => check(inherited, KNOWN, 'opts')).not.toThrow();
});

test('refuses the first unknown key as INVALID_ARGUMENT, naming what it takes', () => {
  expect(() => check({ partition: 1, partiton: 2 }, KNOWN, 'send() options')).toThrow(
    expect.objectContaining({ failure: { code: 'INVALID_ARGUMENT', message: 'send() options: "partiton" is not one of partition, signal' } }),
  );
});
