import { InvalidValue, parseBoolean, parseDuration, parseList } from './parse-value.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['5s', 5000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['0.25s', 250],
    [' 10 s ', 10_000],
  ])('%j -> %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 's', '-5s', '5w', '1m30s', 'five'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidValue);
  });
});

describe('parseBoolean', () => {
  it('knows the usual words, in any case', () => {
    expect(['true', 'TRUE', '1', 'yes', 'on'].map(parseBoolean)).toEqual([true, true, true, true, true]);
    expect(['false', 'False', '0', 'no', 'off'].map(parseBoolean)).toEqual([false, false, false, false, false]);
    expect(() => parseBoolean('y')).toThrow(InvalidValue);
  });
});

describe('parseList', () => {
  it('splits on commas, trims and drops empty items', () => {
    expect(parseList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(parseList('')).toEqual([]);
  });
});
